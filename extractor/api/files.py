"""`/api/files`: uploaded files held for a worker to read (scans, OCR'd at seconds a page), and how far it is.

An upload answers such a file under `pending` at once; these routes follow it: `queued`, `reading`
(page `pages_done` of `pages_total`), then `done` with the `documents` it became, or `failed` with a
one-line `error` and its `code` (the raw bytes stay stored either way).
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from extractor import pending
from extractor.api.auth import Caller, service
from extractor.api.errors import ApiError, SafeJSONResponse
from extractor.storage.repository import NotFound

router = APIRouter(prefix="/api", tags=["files"])

FileId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.get("/files/{file_id}")
async def get_file(request: Request, principal: Caller, file_id: FileId) -> Response:
    """Status, pages read of how many, the error of a failed file, and the documents a done file became."""
    try:
        found = await run_in_threadpool(pending.state, service(request), file_id)
    except NotFound as exc:
        raise ApiError(404, "not found", str(exc)) from None
    return SafeJSONResponse(found.as_dict())


@router.get("/files")
async def list_files(
    request: Request,
    principal: Caller,
    status: Literal["queued", "reading", "done", "failed"] | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
) -> Response:
    """Held files newest first (optionally of one status), each as `GET /api/files/{id}` answers it."""
    total, files = await run_in_threadpool(pending.list_files, service(request), status, limit, offset)
    body = {"total": total, "limit": limit, "offset": offset, "files": [f.as_dict() for f in files]}
    return SafeJSONResponse(body)
