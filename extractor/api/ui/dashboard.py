"""The dashboard, `GET /ui/dashboard` (and its JSON twin `/ui/dashboard.json` for scripts).

Documents by status and review status, flags by section and by cause, and the reviewers'
corrections per field with the share of reviewed documents where that field was corrected (the
reader's error rate measured in production). The figures are `review_stats.dashboard` (a few
grouped queries); the plots are inline SVG bar charts drawn by a template macro, so nothing
here needs a script or a plotting library.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from extractor import review_stats
from extractor.api.auth import Caller, service
from extractor.api.errors import SafeJSONResponse
from extractor.api.ui.pages import Viewer
from extractor.api.ui.plots import bar_chart
from extractor.api.ui.queue import processing
from extractor.api.ui.render import page

router = APIRouter(prefix="/ui", include_in_schema=False)


async def _figures(request: Request) -> review_stats.Dashboard:
    busy = processing(request)

    svc = service(request)

    def load() -> review_stats.Dashboard:
        with svc.session() as session:
            return review_stats.dashboard(session, busy, svc.report)

    return await run_in_threadpool(load)


@router.get("/dashboard")
async def dashboard_page(request: Request, user: Viewer) -> Response:
    figures = await _figures(request)
    fixes = figures.corrections
    charts = {
        "status": bar_chart("Documents by status", [(s, n) for s, n in figures.documents.items()], fill="#5a7d9a"),
        "review": bar_chart("Documents by review status", list(figures.review.items()), fill="#1b6b35"),
        "sections": bar_chart("Flagged cells by section", figures.flags_by_section, fill="#c0504d"),
        "causes": bar_chart("Flagged cells by cause", figures.flags_by_cause, limit=20, fill="#c0504d"),
        "corrections": bar_chart(
            "Corrections per field",
            [(c["key"], c["corrections"]) for c in fixes if c["corrections"]],
            limit=30,
            fill="#4a6fd0",
        ),
        "error_rate": bar_chart(
            "Error rate: share of reviewed documents where the field was corrected",
            [(c["key"], c["error_rate"]) for c in fixes if c["error_rate"]],
            limit=30,
            fill="#8064a2",
            percent=True,
        ),
    }
    return page(request, "dashboard.html", user=user, figures=figures, charts=charts)


@router.get("/dashboard.json")
async def dashboard_json(request: Request, principal: Caller) -> Response:
    """The same figures as JSON, for a session or a bearer token (401 otherwise, like the API)."""
    return SafeJSONResponse((await _figures(request)).as_dict())
