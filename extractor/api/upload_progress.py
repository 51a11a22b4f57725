"""Which page of which file an upload in flight has reached: a long PDF is read in the request, and the
upload page shows "reading page k of N" while its request is still open. (Scans are not: the upload holds
them for the worker's OCR, whose progress `GET /api/files/{id}` tells; see `extractor.pending`.)

The browser names its upload (`X-Upload-Id`); the upload route tells this board after each page, and
`GET /api/uploads/{id}/progress` reads it. Only the newest few hundred uploads are kept.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request

from extractor.api.auth import Caller
from extractor.api.errors import SafeJSONResponse

router = APIRouter(prefix="/api", tags=["documents"])

UPLOAD_ID = re.compile(r"^[A-Za-z0-9-]{8,64}$")
UploadId = Annotated[str, Path(pattern=UPLOAD_ID.pattern)]
_KEPT = 500


class ProgressBoard:
    """(file, pages done, page count) per upload id, newest kept; thread-safe (uploads run in a pool)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._board: OrderedDict[str, dict[str, Any]] = OrderedDict()

    def tell(self, upload_id: str, file: str, done: int, total: int) -> None:
        with self._lock:
            self._board[upload_id] = {"file": file, "page": done, "pages": total}
            self._board.move_to_end(upload_id)
            while len(self._board) > _KEPT:
                self._board.popitem(last=False)

    def read(self, upload_id: str) -> dict[str, Any] | None:
        with self._lock:
            found = self._board.get(upload_id)
            return dict(found) if found else None


def board(request: Request) -> ProgressBoard:
    found: ProgressBoard = request.app.state.upload_progress
    return found


@router.get("/uploads/{upload_id}/progress")
def get_upload_progress(request: Request, principal: Caller, upload_id: UploadId) -> SafeJSONResponse:
    """The page the upload named `upload_id` has reached: `{file, page, pages}`; before its first page
    (a text or HTML file has none) `{file: null, page: 0, pages: 0}`. Not a 404: the upload page asks
    while its request is open, and "nothing read yet" is an answer, not a missing resource (a 404
    would be logged as a failed load in the reviewer's browser on every slow upload of text files)."""
    found = board(request).read(upload_id)
    return SafeJSONResponse(found if found is not None else {"file": None, "page": 0, "pages": 0})
