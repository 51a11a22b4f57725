"""Batch upload, `GET /ui/upload`, and its progress, `GET|POST /ui/upload/progress`.

The page's script (`static/upload.js`) sends the chosen files to the JSON API's
`POST /api/documents` a few at a time (so a thousand files show progress and no request is
huge), then polls the progress endpoint with the ids it got back until none is queued or being
read. Progress is one grouped query per 900 ids (`review_stats.progress`), whatever the batch.
The ids come by query string (`?ids=1,2,3`, short batches) or as a JSON body (`{"ids": [...]}`,
up to `MAX_IDS`); the POST only reads, but as a cookie-authenticated POST it carries the CSRF
token like every other.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from extractor import review_stats
from extractor.api.auth import check_csrf, service
from extractor.api.errors import ApiError, SafeJSONResponse
from extractor.api.ui.pages import Viewer
from extractor.api.ui.queue import processing
from extractor.api.ui.render import page

router = APIRouter(prefix="/ui", include_in_schema=False)

MAX_IDS = 10_000
CHUNK_FILES = 20  # files per POST /api/documents from the page's script


@router.get("/upload")
def upload_page(request: Request, user: Viewer) -> Response:
    settings = request.app.state.settings
    chunk = max(1, min(CHUNK_FILES, settings.max_files_per_request))
    max_mb = service(request).max_bytes / 1024 / 1024
    return page(request, "upload.html", user=user, chunk=chunk, max_mb=f"{max_mb:g}")


async def _progress(request: Request, ids: list[int]) -> Response:
    busy = processing(request)

    def load() -> review_stats.Progress:
        with service(request).session() as session:
            return review_stats.progress(session, ids, busy)

    found = await run_in_threadpool(load)
    body: dict[str, Any] = {
        "total": len(found.statuses), **found.counts, "failures": found.failures,
        "statuses": {str(k): v for k, v in found.statuses.items()}, "unknown": found.unknown,
        "finished": found.counts["queued"] == 0 and found.counts["processing"] == 0,
    }  # fmt: skip
    return SafeJSONResponse(body, headers={"Cache-Control": "no-store"})


def _ids(values: list[str] | list[int]) -> list[int]:
    try:
        return review_stats.parse_ids(values, MAX_IDS)
    except ValueError as exc:
        raise ApiError(422, "bad ids", str(exc)) from None


@router.get("/upload/progress")
async def progress_get(request: Request, user: Viewer, ids: Annotated[str, Query(max_length=60_000)] = "") -> Response:
    """Counts {queued, processing, done, failed} of the documents `ids` (comma-separated)."""
    return await _progress(request, _ids([ids]))


class ProgressIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ids: list[Annotated[int, Field(ge=1, le=2**31 - 1)]] = Field(max_length=MAX_IDS)


@router.post("/upload/progress")
async def progress_post(request: Request, user: Viewer, body: ProgressIn) -> Response:
    """The same for a long batch: `{"ids": [...]}`."""
    await check_csrf(request)
    return await _progress(request, _ids(body.ids))
