"""Every error as JSON `{"error": ..., "reason": ...}` with its 4xx, and never a 500 for bad input.

Report text is untrusted, so the JSON is written with `<`, `>` and `&` escaped (`\\u003c`…): the
same strings to any JSON parser, but inert should anything ever treat the body as HTML.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from extractor.storage.database import DatabaseUnavailable

log = logging.getLogger("gongkai.api")


class SafeJSONResponse(JSONResponse):
    """JSON with HTML's special characters escaped; UTF-8, Chinese kept readable."""

    def render(self, content: Any) -> bytes:
        text = json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026").encode("utf-8")


class ApiError(Exception):
    """An answer the client caused: HTTP `status`, a short `error` and a one-line `reason`."""

    def __init__(self, status: int, error: str, reason: str, **extra: Any) -> None:
        self.status = status
        self.error = error
        self.reason = reason
        self.extra = extra
        super().__init__(reason)


def error_response(status: int, error: str, reason: str, **extra: Any) -> Response:
    return SafeJSONResponse({"error": error, "reason": reason, **extra}, status_code=status)


def _location(loc: Any) -> str:
    return ".".join(str(part) for part in loc if part not in ("body",)) or "body"


def install(app: FastAPI) -> None:
    """Register the handlers that turn every exception into a JSON error."""

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> Response:
        return error_response(exc.status, exc.error, exc.reason, **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        # Only locations and messages: the rejected input itself is not echoed back.
        problems = [f"{_location(e.get('loc', ()))}: {e.get('msg', 'invalid')}" for e in exc.errors()[:10]]
        return error_response(422, "invalid request", "; ".join(problems) or "invalid request")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        error = {404: "not found", 405: "method not allowed"}.get(exc.status_code, "request refused")
        reason = exc.detail if isinstance(exc.detail, str) else error
        return error_response(exc.status_code, error, reason)

    @app.exception_handler(DatabaseUnavailable)
    async def _database(request: Request, exc: DatabaseUnavailable) -> Response:
        return error_response(503, "database unavailable", str(exc))

    @app.exception_handler(SQLAlchemyError)
    async def _sql(request: Request, exc: SQLAlchemyError) -> Response:
        log.exception("database error on %s %s", request.method, request.url.path)
        return error_response(503, "database error", "the database refused the request; try again")

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(500, "internal error", "an unexpected error; it has been logged")
