"""`GET /ui/documents/{id}`: one document's tables drawn like the official form, beside its text.

The page is built from one `ReviewService.document()` call (one short transaction): cells, text,
history and the review version all come from it, so a 200-field report costs no per-cell query.
Each cell gets a review state the script and the tests read from `data-state`:

* `corrected` / `accepted`: a reviewer's value (source `review`); the newest action on the trail
  for that key says which;
* `inferred`: not printed, derived from the sums (always worth a look);
* `flagged`: confidence below `FLAG_BELOW`, or expected but missing;
* `verified`: read, nothing doubts it.

The keyboard flow (review.js) walks the `flagged` and `inferred` cells in reading order.

A paged document (PDF, scan) also has page pictures: a cell printed on a page carries its page and
box (`data-page`, `data-box`), and the side pane shows that part of the page beside the value
(`#page-crop`, drawn by review.js from the page's PNG), so the reviewer checks the printed number
itself, not only the text it was read as. Text and HTML documents keep the source text alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Path, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from extractor.api.auth import service
from extractor.api.ui.pages import Viewer
from extractor.api.ui.render import page
from extractor.confidence import FLAG_BELOW
from extractor.flag_groups import FlagGroup, group_flags
from extractor.form_layout import FormSection, form_layout
from extractor.model import format_number
from extractor.service import Recheck, recheck_sums
from extractor.storage.repository import REVIEW_SOURCE, NotFound

router = APIRouter(prefix="/ui", include_in_schema=False)

STATES = ("verified", "flagged", "inferred", "corrected", "accepted")
# What the legend says about each state (colour alone is not enough to tell them apart).
STATE_LABELS = {
    "flagged": "flagged — check it",
    "inferred": "inferred from the sums",
    "verified": "read, no doubt",
    "corrected": "corrected by a reviewer",
    "accepted": "accepted by a reviewer",
}
NOT_FOUND_REASON = "cell not found in the document"
# Statuses that mean the page is waiting for the worker: it refreshes itself.
WAITING = ("queued", "processing")
REFRESH_SECONDS = 3


@dataclass(frozen=True)
class CellView:
    """What the template needs of one cell."""

    key: str
    state: str
    value: str
    raw: str
    start: int | None
    end: int | None
    confidence: float
    reasons: tuple[str, ...]
    status: str
    box: tuple[int, float, float, float, float] | None = None  # page, x0, top, x1, bottom

    @property
    def box_attr(self) -> str:
        """`data-box`: "x0 top x1 bottom" in page units (empty when the cell has no box)."""
        return "" if self.box is None else " ".join(f"{v:g}" for v in self.box[1:])


def cell_state(cell: Mapping[str, Any] | None, newest_action: str | None) -> str:
    """One of `STATES` for a cell of `Extraction.detailed()["cells"]` (None: the reader gave none)."""
    if cell is None:
        return "corrected" if newest_action == "correct" else "accepted" if newest_action == "accept" else "flagged"
    if cell.get("source") == REVIEW_SOURCE:
        return "accepted" if newest_action == "accept" else "corrected"
    if cell.get("status") == "inferred":
        return "inferred"
    if cell.get("status") == "missing" or float(cell.get("confidence", 0.0)) < FLAG_BELOW:
        return "flagged"
    return "verified"


def _cell_view(key: str, cell: Mapping[str, Any] | None, newest_action: str | None) -> CellView:
    state = cell_state(cell, newest_action)
    if cell is None:
        return CellView(key, state, "", "", None, None, 0.0, (NOT_FOUND_REASON,), "missing")
    span = cell.get("span") or None
    value = cell.get("value")
    box = cell.get("box") or None
    return CellView(
        key=key, state=state, value="" if value is None else format_number(value), raw=str(cell.get("raw") or ""),
        start=int(span[0]) if span else None, end=int(span[1]) if span else None,
        confidence=float(cell.get("confidence", 0.0)), reasons=tuple(cell.get("reasons") or ()),
        status=str(cell.get("status", "")),
        box=None if box is None else (int(box["page"]), float(box["x0"]), float(box["top"]), float(box["x1"]),
                                      float(box["bottom"])),
    )  # fmt: skip


def _newest_actions(history: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """Key → the newest action on the trail (the trail is oldest first)."""
    return {str(row["key"]): str(row["action"]) for row in history}


def _sums(recheck: Recheck) -> dict[str, Any]:
    def rules(items: Any) -> list[dict[str, str]]:
        return [{"rule": c.rule, "description": c.description, "message": c.message} for c in items]

    return {"holding": rules(recheck.holding), "broken": rules(recheck.broken), "unchecked": list(recheck.unchecked)}


@dataclass(frozen=True)
class ReviewView:
    """Everything the page shows of a read document."""

    sections: tuple[FormSection, ...]
    cells: dict[str, CellView]
    groups: list[FlagGroup]
    sums: dict[str, Any]
    to_review: int


def review_view(request: Request, doc: Mapping[str, Any]) -> ReviewView | None:
    """The tables, states, flag groups and current sums of a read document (None: no template)."""
    result = doc.get("result") or {}
    run = doc.get("run") or {}
    version = result.get("template") or run.get("template")
    if not version:
        return None
    try:
        template = service(request).report.template(str(version))
    except KeyError:
        return None
    raw_cells: Mapping[str, Any] = result.get("cells") or {}
    actions = _newest_actions(doc.get("history") or [])
    sections = form_layout(template, raw_cells)
    keys = template.used_keys(raw_cells)
    cells = {key: _cell_view(key, raw_cells.get(key), actions.get(key)) for key in keys}
    open_cells = {k: list(c.reasons) for k, c in cells.items() if c.state in ("flagged", "inferred")}
    groups = group_flags(open_cells, keys)
    values = {key: cell.get("value") for key, cell in raw_cells.items()}
    recheck = recheck_sums(template, int(run.get("id") or 0), "", None, values)
    return ReviewView(sections, cells, groups, _sums(recheck), len(open_cells))


def _client_cells(cells: Mapping[str, CellView]) -> dict[str, Any]:
    """What review.js needs per cell beyond the markup: reasons, raw text and confidence."""
    return {
        k: {"reasons": list(c.reasons), "raw": c.raw, "confidence": c.confidence, "status": c.status}
        for k, c in cells.items()
    }


def page_pictures(document_id: int, pages: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Page number → size and picture URL, for each page that has a picture (what review.js crops)."""
    return {
        str(p["number"]): {"width": p["width"], "height": p["height"],
                           "url": f"/api/documents/{document_id}/pages/{p['number']}.png"}
        for p in pages if p.get("image")
    }  # fmt: skip


@router.get("/documents/{document_id}")
async def document_page(request: Request, user: Viewer, document_id: int = Path(ge=1, le=2**31 - 1)) -> Response:
    """The review page; a missing document is a 404 page, a waiting one refreshes itself."""
    try:
        doc = await run_in_threadpool(service(request).document, document_id)
    except NotFound:
        return page(request, "document_missing.html", status_code=404, user=user, document_id=document_id)
    dispatcher = request.app.state.dispatcher
    if doc["status"] == "queued" and document_id in dispatcher.processing():
        doc["status"] = "processing"
    view = review_view(request, doc) if doc["status"] == "done" else None
    pictures = page_pictures(document_id, doc.get("pages") or [])
    return page(
        request, "document.html", user=user, doc=doc, view=view, states=STATES, state_labels=STATE_LABELS,
        version=int((doc.get("review") or {}).get("version", 0)),
        refresh=REFRESH_SECONDS if doc["status"] in WAITING else None,
        pictures=pictures, client={"cells": _client_cells(view.cells) if view else {}, "pages": pictures},
    )  # fmt: skip
