"""`GET /healthz`: the process answers and the database does (open to anonymous callers)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy import text
from starlette.responses import Response

from extractor.api.auth import service
from extractor.api.errors import SafeJSONResponse, error_response

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz(request: Request) -> Response:
    try:
        with service(request).session() as session:
            session.execute(text("SELECT 1"))
    except Exception as exc:  # any failure here is "not healthy", said in one line
        return error_response(503, "unhealthy", f"database: {type(exc).__name__}")
    return SafeJSONResponse({"status": "ok"})
