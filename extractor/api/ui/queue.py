"""The review queue, `GET /ui/`: documents ranked by how much of them still needs a reviewer.

The ranking and counting are `extractor.review_stats.queue` (two SQL queries per page whatever
the number of documents); this page parses the filter form, adds what only the dispatcher knows
(which documents a worker is reading now) and renders one page of 50. A document cut out of a
compilation file (a 汇编) shows "part k of N · file", the file a link to its parts (`?file=<hash>`).
Scans an upload held for the worker's OCR (`extractor.pending`) and not read yet are listed above the
table with their page or their error: they become documents only once read.
"""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from extractor import pending, review_stats
from extractor.api.auth import service
from extractor.api.ui.pages import Viewer
from extractor.api.ui.render import page

router = APIRouter(prefix="/ui", include_in_schema=False)

PAGE = 50
_HELD_SHOWN = 20


def processing(request: Request) -> frozenset[int]:
    """Documents a worker is reading right now (only the dispatcher knows; the database says queued)."""
    found: frozenset[int] = request.app.state.dispatcher.processing()
    return found


def _blank_is_none(value: str | None) -> str | None:
    """An empty form field means no filter."""
    value = value.strip() if value is not None else None
    return value or None


@router.get("/")
async def queue_page(
    request: Request,
    user: Viewer,
    agency: Annotated[str | None, Query(max_length=200)] = None,
    year: Annotated[str | None, Query(max_length=4, pattern=r"^(\d{4})?$")] = None,
    template: Annotated[str | None, Query(max_length=64)] = None,
    status: Literal["", "queued", "processing", "done", "failed"] | None = None,
    review: Literal["", "unreviewed", "reviewed"] | None = None,
    reason: Annotated[str | None, Query(max_length=200)] = None,
    file: Annotated[str | None, Query(max_length=255)] = None,
    offset: Annotated[int, Query(ge=0, le=10**7)] = 0,
) -> Response:
    filters = review_stats.QueueFilters(
        agency=_blank_is_none(agency), year=int(year) if year else None, template=_blank_is_none(template),
        status=status or None, review=review or None, reason=_blank_is_none(reason), file=_blank_is_none(file),
    )  # fmt: skip
    busy = processing(request)

    def load() -> tuple[review_stats.QueuePage, dict[str, list[object]]]:
        with service(request).session() as session:
            return (
                review_stats.queue(session, filters, limit=PAGE, offset=offset, processing=busy),
                review_stats.filter_choices(session),
            )

    result, choices = await run_in_threadpool(load)
    # scans held for the worker's OCR are no documents yet: listed apart, so an upload never seems lost
    held, files = await run_in_threadpool(pending.unfinished, service(request), _HELD_SHOWN)
    query = {k: v for k, v in vars(filters).items() if v is not None}

    def link(at: int) -> str:
        return "/ui/?" + urlencode({**query, "offset": at})

    return page(
        request, "queue.html", user=user, items=result.items, total=result.total, filters=filters,
        choices=choices, offset=offset, page_size=PAGE,
        previous=link(max(0, offset - PAGE)) if offset > 0 else None,
        next=link(offset + PAGE) if offset + PAGE < result.total else None,
        statuses=review_stats.DOCUMENT_STATUSES, reviews=review_stats.REVIEW_STATUSES, held=held, files=files,
    )  # fmt: skip
