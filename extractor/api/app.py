"""`create_app(settings)`: the FastAPI app, its middleware and routes, and its worker's lifetime.

Middleware: signed session cookies (Starlette's `SessionMiddleware`, itsdangerous), and headers
that keep a browser from ever running what a report contains (`nosniff`, a CSP that allows
nothing on API answers, no framing). The OpenAPI schema and the docs page need a login like
everything else but `/healthz` and `/login`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware
from starlette.responses import HTMLResponse, RedirectResponse, Response

from extractor import review_stats
from extractor.api import auth, documents, errors, exports, files, health, ui, upload_progress, users
from extractor.api.auth import Caller
from extractor.api.errors import SafeJSONResponse
from extractor.api.settings import ApiSettings
from extractor.api.ui.pages import LoginRequired
from extractor.api.ui.render import STATIC
from extractor.api.worker import CeleryDispatcher, Dispatcher, InProcessWorker, NoWorker
from extractor.review import ReviewService

TITLE = "gongkai review service"
log = logging.getLogger("gongkai.api")


def _dispatcher(settings: ApiSettings, svc: ReviewService) -> Dispatcher:
    if settings.workers == "thread":
        return InProcessWorker(svc, settings.reader)
    if settings.workers == "celery":
        return CeleryDispatcher(settings.reader, settings.queue)
    return NoWorker()


def _warm(svc: ReviewService) -> None:
    try:
        with svc.session() as session:
            review_stats.queue(session)
            review_stats.dashboard(session)
    except Exception:  # a cache warm-up must never take the server down; the first page pays instead
        log.warning("could not warm the review queue's totals", exc_info=True)


def create_app(settings: ApiSettings | None = None, service: ReviewService | None = None) -> FastAPI:
    """The app on `settings.database_url` (migrated on start); the worker runs while the app does."""
    settings = settings or ApiSettings()
    svc = service or ReviewService(settings.database_url)
    worker = _dispatcher(settings, svc)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        worker.start()
        # Sum every stored run's flags once now, in the background, so the first visit to the queue or
        # the dashboard does not pay for it (0.3-0.6 s at 1,000 documents).
        threading.Thread(target=_warm, args=(svc,), name="gongkai-warm-queue", daemon=True).start()
        try:
            yield
        finally:
            worker.stop()
            if service is None:
                svc.close()

    app = FastAPI(
        title=TITLE, lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None,
        default_response_class=SafeJSONResponse,
    )  # fmt: skip
    app.state.settings = settings
    app.state.service = svc
    app.state.dispatcher = worker
    app.state.upload_progress = upload_progress.ProgressBoard()
    errors.install(app)
    app.add_middleware(
        SessionMiddleware, secret_key=settings.secret_key, session_cookie="gongkai_session",
        max_age=int(settings.session_hours * 3600), same_site="lax", https_only=settings.https_only,
    )  # fmt: skip

    @app.middleware("http")
    async def _headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        # Server time of the answer (excluding the network), for `evals.serve_bench` and browsers' devtools.
        response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.1f}"
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        # same-origin: no referrer leaves the site, but the browser's own form posts keep their true
        # Origin (under no-referrer a login form post carries "Origin: null", which check_csrf refuses)
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if request.url.path != "/docs":
            response.headers.setdefault("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
        if request.url.path.startswith("/api"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    app.include_router(health.router)
    app.include_router(auth.router)
    app.include_router(documents.router)
    app.include_router(upload_progress.router)
    app.include_router(files.router)
    app.include_router(exports.router)
    app.include_router(users.router)
    app.include_router(ui.router)
    app.mount("/ui/static", StaticFiles(directory=STATIC), name="static")

    @app.exception_handler(LoginRequired)
    async def _login_first(request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse("/ui/login", status_code=303)

    @app.get("/", include_in_schema=False)
    def home() -> Response:
        return RedirectResponse("/ui/", status_code=307)

    @app.get("/openapi.json", include_in_schema=False)
    def openapi(principal: Caller) -> dict[str, Any]:
        return app.openapi()

    @app.get("/docs", include_in_schema=False)
    def docs(principal: Caller) -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title=TITLE)

    return app
