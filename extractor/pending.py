"""Uploaded files whose reading is left to a worker: scans, which OCR reads at about 3 s a page.

An upload decides cheaply (`extractor.ingest.needs_ocr`, no OCR) whether a file needs OCR. If it
does, its raw bytes are stored (`files` table, once per content hash) and `queued`, and the upload
request answers at once; a worker (the server's thread or a Celery worker: both call `read_file`)
reads it, telling the file row after each page, so any process can show "page k of N". The file
ends `done` (its documents stored exactly as an upload stores them, a compilation cut into parts) or
`failed` with its one-line reason; either way the raw bytes stay. A process stopped mid-reading
leaves the file `queued` or `reading`, and `to_read` lists it for the next start to finish.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from extractor.ingest import IngestError, load_bytes
from extractor.service import Service
from extractor.storage import repository
from extractor.storage.database import retry_locked
from extractor.storage.models import FileRow

log = logging.getLogger("gongkai.pending")

# Progress is written at most this often; the last page told is written with the file's outcome.
_PROGRESS_EVERY = 0.5
_ERROR_CHARS = 300


@dataclass(frozen=True)
class Held:
    """An uploaded file stored raw for a worker to read (`duplicate`: those bytes were held already;
    `fresh`: queued by this upload, new or failed before, so a worker must be told)."""

    id: int
    name: str
    sha256: str
    status: str
    duplicate: bool
    fresh: bool = True

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "sha256": self.sha256, "status": self.status,
                "duplicate": self.duplicate}  # fmt: skip


@dataclass(frozen=True)
class FileState:
    """Where a held file stands: status, pages read of how many, the reason it failed, its documents."""

    id: int
    name: str
    sha256: str
    size: int
    status: str
    pages_done: int
    pages_total: int
    code: str | None
    error: str | None
    documents: tuple[int, ...]
    created_at: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "name": self.name, "sha256": self.sha256, "size": self.size, "status": self.status,
            "pages_done": self.pages_done, "pages_total": self.pages_total, "code": self.code, "error": self.error,
            "documents": list(self.documents), "created_at": self.created_at,
        }  # fmt: skip


def _state(session: Session, row: FileRow) -> FileState:
    documents = tuple(repository.file_documents(session, row.sha256)) if row.status == "done" else ()
    return FileState(
        id=row.id, name=row.name, sha256=row.sha256, size=row.size, status=row.status, pages_done=row.pages_done,
        pages_total=row.pages_total, code=row.code, error=row.error, documents=documents,
        created_at=row.created_at.isoformat() if row.created_at else None,
    )  # fmt: skip


def hold(service: Service, name: str, data: bytes) -> Held:
    """Store the file's bytes `queued` for a worker, once per content hash (a failed one is queued again)."""
    sha256 = hashlib.sha256(data).hexdigest()

    def work() -> Held:
        with service.session() as session:
            row, created, fresh = repository.hold_file(session, sha256=sha256, name=name, data=data)
            return Held(row.id, name, sha256, row.status, duplicate=not created, fresh=fresh)

    return retry_locked(work)


def state(service: Service, file_id: int) -> FileState:
    """The held file now; `repository.NotFound` when there is none."""
    with service.session() as session:
        row = repository.get_file(session, file_id)
        if row is None:
            raise repository.NotFound(f"no file with id {file_id}")
        return _state(session, row)


def list_files(
    service: Service, status: str | None = None, limit: int = 50, offset: int = 0
) -> tuple[int, list[FileState]]:
    """(how many match, one page of held files newest first)."""
    with service.session() as session:
        total, rows = repository.list_files(session, status, limit, offset)
        return total, [_state(session, row) for row in rows]


def unfinished(service: Service, limit: int = 20) -> tuple[int, list[FileState]]:
    """(how many held files are queued, being read or failed; the newest `limit` of them)."""
    with service.session() as session:
        total, rows = repository.unfinished_files(session, limit)
        return total, [_state(session, row) for row in rows]


def to_read(service: Service) -> list[int]:
    """Held files still `queued` or `reading`: what a starting worker must (re)read, oldest first."""
    with service.session() as session:
        return repository.files_to_read(session)


class Stopped(BaseException):
    """Raised between pages when the worker is stopping: the file stays `reading`, and the next start
    reads it again. A BaseException, so no reader's own `except Exception` swallows it."""


class _Progress:
    """Tells the file row after each page (throttled); a failed write never stops the reading."""

    def __init__(self, service: Service, file_id: int, stopping: Callable[[], bool] | None) -> None:
        self.service = service
        self.file_id = file_id
        self.stopping = stopping
        self._last = 0.0
        self.seen = (0, 0)  # the last (done, total) told

    def __call__(self, done: int, total: int) -> None:
        if self.stopping is not None and self.stopping():
            raise Stopped(f"stopped at page {done} of {total} of file {self.file_id}")
        self.seen = (done, total)
        now = time.monotonic()
        if now - self._last < _PROGRESS_EVERY:
            return
        self._last = now
        try:
            with self.service.session() as session:
                repository.set_file_progress(session, self.file_id, done, total)
        except Exception:  # a locked or busy database: the next page tries again
            log.warning("could not record page %d of %d of file %d", done, total, self.file_id, exc_info=True)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    first = text.splitlines()[0] if text else ""
    return f"cannot read the file: {type(exc).__name__}{': ' + first if first else ''}"[:_ERROR_CHARS]


def read_file(service: Service, file_id: int, stopping: Callable[[], bool] | None = None) -> FileState:
    """Read a held file (OCR) and store its documents as an upload would; the file as it now stands
    (`documents`: what it became, for the caller to have read: `ReviewService.unread_documents`).

    A file already `done` is left as it is (a redelivered task, a second worker). Reading that fails
    marks the file `failed` with a one-line reason and its code (`IngestError`'s; `unreadable` for
    anything else, a crash or a time limit), and the bytes stay. Database errors are raised: the
    caller's retry (or the next start) reads the file again. `stopping` is asked after each page;
    when it says yes, `Stopped` is raised and the file stays `reading` for the next start.
    """

    def begin() -> tuple[FileState | None, str, bytes]:
        with service.session() as session:
            row = repository.get_file(session, file_id)
            if row is None:
                raise repository.NotFound(f"no file with id {file_id}")
            if row.status == "done":
                return _state(session, row), row.name, b""
            repository.set_file_status(session, file_id, "reading")
            return None, row.name, repository.file_data(session, file_id)

    finished, name, data = retry_locked(begin)
    if finished is not None:
        return finished
    progress = _Progress(service, file_id, stopping)
    try:
        doc = load_bytes(data, name, max_bytes=service.max_bytes, progress=progress)
        parts = service.parts(doc)
    except IngestError as exc:
        return _fail(service, file_id, exc.code, str(exc)[:_ERROR_CHARS], progress.seen)
    except Exception as exc:  # an OCR crash or a worker's time limit: recorded, the bytes kept
        log.exception("reading file %d (%s) failed", file_id, name)
        return _fail(service, file_id, "unreadable", _one_line(exc), progress.seen)

    def store() -> FileState:
        with service.session() as session:  # every part and the file's `done` in one transaction
            for part in parts:
                document = repository.save_source(session, part)
                repository.get_review(session, document.id)
            repository.set_file_progress(session, file_id, *progress.seen)
            return _set(session, file_id, "done")

    return retry_locked(store)


def _set(session: Session, file_id: int, status: str, code: str | None = None, error: str | None = None) -> FileState:
    repository.set_file_status(session, file_id, status, code=code, error=error)
    row = repository.get_file(session, file_id)
    if row is None:
        raise repository.NotFound(f"no file with id {file_id}")
    session.refresh(row)
    return _state(session, row)


def _fail(service: Service, file_id: int, code: str, error: str, seen: tuple[int, int]) -> FileState:
    def work() -> FileState:
        with service.session() as session:
            repository.set_file_progress(session, file_id, *seen)
            return _set(session, file_id, "failed", code, error)

    return retry_locked(work)
