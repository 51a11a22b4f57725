"""The tasks: a stored document's hash in, one run in the database out.

`process_document(sha256, reader)` loads the document the submitter stored, skips it if a done
run for this reader version exists, and then either reads it in-process (`pipeline.extract`) or
fans out one `read_section` task per table joined by a chord whose callback assembles,
reconciles and stores the run (see `WorkerSettings.fanout` for which). Section results pass
through the result backend (short-lived); runs live only in the database.

Errors: database and broker connection errors are retried with exponential backoff; anything
else (a reader crash, the soft time limit, an LLM that is not configured) is stored as a failed
run, so a submitter waiting on the database sees the document finish either way. A hard time
limit or retries running out reach the `record_failure` errback, which stores the failed run.

`ingest_file(file_id, reader)` OCRs a file an upload held (`extractor.pending.read_file`, the same
code the server's own thread runs), stores its documents and queues `process_document` for each one
not read yet. A file already `done` is only checked for unread documents (a redelivered message).
Its time limits are the visibility timeout's, not a document's: a long scan takes minutes.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable
from typing import Any, TypeGuard

import kombu.exceptions
import redis.exceptions
import sqlalchemy.exc
from celery import Task, chord
from celery.utils.log import get_task_logger
from sqlalchemy import make_url, select
from sqlalchemy.orm import Session, sessionmaker, undefer

from extractor import pending, pipeline
from extractor.ingest import SourceDocument
from extractor.ingest.normalize import normalize
from extractor.pipeline import READERS, Reader, Readings
from extractor.readers.llm import LLMSettings, LLMUsage
from extractor.review import ReviewService
from extractor.settings import get_settings
from extractor.storage import DocumentRow, RunRow, make_engine, run_key, save_failed_run, save_run, session_factory
from extractor.storage.models import FileRow
from extractor.storage.repository import set_file_status
from workers.app import app
from workers.budget import SharedBudget
from workers.codec import plan_from_json, plan_to_json, reading_from_json, reading_to_json
from workers.config import Fanout, get_worker_settings

log = get_task_logger(__name__)

# Worth another try after a pause: the database or the broker was unreachable, busy or restarting.
TRANSIENT: tuple[type[BaseException], ...] = (
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    kombu.exceptions.OperationalError,
)

_WORKER = get_worker_settings()
_RETRY: dict[str, Any] = {
    "autoretry_for": TRANSIENT,
    "retry_backoff": True,
    "retry_backoff_max": _WORKER.retry_backoff_max,
    "retry_jitter": True,
    "max_retries": _WORKER.max_retries,
}


def _task(**options: Any) -> Callable[[Callable[..., Any]], Any]:
    """`app.task`, typed: Celery ships no annotations."""
    decorator: Callable[[Callable[..., Any]], Any] = app.task(**options)
    return decorator


_FACTORIES: dict[tuple[int, str], sessionmaker[Session]] = {}


@functools.cache
def _database_url() -> str:
    """The workers' database, read from the settings once per process: a worker's environment
    does not change while it runs, and building the settings costs ~1 ms, a tenth of a document."""
    return get_settings().database_url


def sessions(url: str | None = None) -> sessionmaker[Session]:
    """Sessions on the workers' database, one engine per process (pool processes are forked)."""
    url = url or _database_url()
    key = (os.getpid(), url)
    factory = _FACTORIES.get(key)
    if factory is None:
        options: dict[str, Any] = {}
        if make_url(url).get_backend_name() == "postgresql":
            # Named, so an operator (or a test) can find this queue's connections in pg_stat_activity.
            options = {"pool_size": 2, "max_overflow": 2, "connect_args": {"application_name": application_name()}}
        factory = _FACTORIES[key] = session_factory(make_engine(url, **options))
    return factory


def application_name(queue: str | None = None) -> str:
    return f"gongkai-worker {queue or _WORKER.queue}"[:63]


def reader_version(reader: str) -> str:
    """The version a run of `reader` is stored under (the pipeline's, for a known reader)."""
    return pipeline.reader_version(reader) if _known(reader) else f"unknown:{reader}"


def _known(reader: str) -> TypeGuard[Reader]:
    return reader in READERS


def idempotency_key(sha256: str, reader: str) -> str:
    return run_key(sha256, reader, reader_version(reader))


def fans_out(reader: str, fanout: Fanout) -> bool:
    """Whether `reader` reads a document as a chord of section tasks under the `fanout` setting."""
    if fanout == "document":
        return False
    return reader == "llm" or (reader == "rules" and fanout == "sections")


def _document(session: Session, sha256: str) -> DocumentRow | None:
    stmt = select(DocumentRow).where(DocumentRow.sha256 == sha256).options(undefer(DocumentRow.text))
    return session.scalar(stmt)


def _source(row: DocumentRow) -> SourceDocument:
    """The ingested document again, from what the submitter stored (spans point into `text`)."""
    return SourceDocument(
        name=row.name, sha256=row.sha256, kind=row.kind, encoding=row.encoding, size=row.size, text=row.text,
        normalized=normalize(row.text),
    )  # fmt: skip


def _done(session: Session, key: str) -> int | None:
    return session.scalar(select(RunRow.id).where(RunRow.idempotency_key == key, RunRow.status == "done"))


def _error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:2000]


def store_failure(sha256: str, reader: str, version: str, error: str, seconds: float = 0.0) -> int | None:
    """A failed run for the document; never replaces a done run (`save_run` keeps it)."""
    with sessions()() as session, session.begin():
        document = _document(session, sha256)
        if document is None:
            log.error("document %s is not in the database: %s", sha256, error)
            return None
        run = save_failed_run(session, document, reader=reader, reader_version=version, error=error, seconds=seconds)
        return run.id


def _queue(task: Task) -> str | None:
    info = task.request.delivery_info or {}
    queue = info.get("routing_key")
    return str(queue) if queue else None


@_task(bind=True, name="gongkai.document", ignore_result=True, **_RETRY)
def process_document(self: Task, sha256: str, reader: str = "rules") -> dict[str, Any]:
    """Read one stored document with `reader` and store the run (or fan its sections out)."""
    started = time.time()
    version = reader_version(reader)
    key = run_key(sha256, reader, version)
    factory = sessions()
    with factory() as session:
        done = _done(session, key)
        if done is not None:
            return {"sha256": sha256, "status": "skipped", "run": done}
        row = _document(session, sha256)
        if row is None:
            log.error("document %s is not in the database; store it before enqueueing", sha256)
            return {"sha256": sha256, "status": "missing"}
        session.commit()  # no transaction stays open while reading (an LLM reading takes minutes)
        doc = _source(row)
        if not _known(reader):
            save_failed_run(session, row, reader=reader, reader_version=version, error=f"unknown reader {reader!r}")
            session.commit()
            return {"sha256": sha256, "status": "failed"}
        if fans_out(reader, _WORKER.fanout):
            return _fan_out(self, doc, reader, version, started)
        try:
            extraction = pipeline.extract(doc, reader=reader)
        except TRANSIENT:
            raise
        except Exception as exc:
            log.exception("reading %s with %s failed", sha256, reader)
            save_failed_run(session, row, reader=reader, reader_version=version, error=_error(exc),
                            seconds=time.time() - started)  # fmt: skip
            session.commit()
            return {"sha256": sha256, "status": "failed"}
        run = save_run(session, row, extraction)
        session.commit()
        return {"sha256": sha256, "status": run.status, "run": run.id}


def _fan_out(task: Task, doc: SourceDocument, reader: str, version: str, started: float) -> dict[str, Any]:
    plan = pipeline.plan(doc)
    plan_json = plan_to_json(plan)
    queue = _queue(task)
    options = {"queue": queue} if queue else {}
    header = [read_section_task.s(doc.sha256, reader, key, plan_json).set(**options) for key in plan.regions]
    failure = record_failure.s(sha256=doc.sha256, reader=reader, reader_version=version)
    callback = finish_document.s(doc.sha256, reader, version, plan_json, started).set(**options).on_error(failure)
    if not header:  # no template found: nothing to read apart, the callback stores the (empty) reading
        callback.apply_async(args=([],))
    else:
        chord(header)(callback)
    return {"sha256": doc.sha256, "status": "fanned out", "sections": len(header)}


@_task(bind=True, name="gongkai.section", **_RETRY)
def read_section_task(self: Task, sha256: str, reader: str, section: str, plan: dict[str, Any]) -> dict[str, Any]:
    """One table of one document; errors come back as data so the join can store a failed run."""
    with sessions()() as session:
        row = _document(session, sha256)
        if row is None:
            return {"section": section, "fields": [], "notes": [], "usage": {}, "error": "document not in database"}
        doc = _source(row)
    document_plan = plan_from_json(plan)
    try:
        if reader == "llm":
            settings = LLMSettings()
            budget = SharedBudget(sha256, reader_version(reader), settings.token_budget)
            readings, usage = pipeline.read_llm(doc, document_plan, [section], settings, budget=budget)
            return reading_to_json(readings[0], usage.as_dict())
        return reading_to_json(pipeline.read_rules(doc, document_plan, [section])[0])
    except TRANSIENT:
        raise
    except Exception as exc:
        log.exception("reading section %s of %s failed", section, sha256)
        return {"section": section, "fields": [], "notes": [], "usage": {}, "error": f"{section}: {_error(exc)}"}


@_task(bind=True, name="gongkai.finish", ignore_result=True, **_RETRY)
def finish_document(
    self: Task, results: list[dict[str, Any]], sha256: str, reader: str, version: str, plan: dict[str, Any],
    started: float,
) -> dict[str, Any]:  # fmt: skip
    """The chord's join: the pipeline assembles, settles and checks the sections; the run is stored."""
    errors = [r["error"] for r in results if r.get("error")]
    if errors:
        run_id = store_failure(sha256, reader, version, "; ".join(errors), time.time() - started)
        return {"sha256": sha256, "status": "failed", "run": run_id}
    if not _known(reader):
        raise ValueError(f"unknown reader {reader!r}")
    readings = Readings(plan_from_json(plan))
    sections = [reading_from_json(r) for r in results]
    if reader == "rules":
        readings.rules = sections
    else:
        readings.llm, readings.sent, readings.usage = sections, [r.section for r in sections], LLMUsage()
        for result in results:
            readings.usage.merge(result["usage"])
    with sessions()() as session, session.begin():
        document = _document(session, sha256)
        if document is None:
            log.error("document %s vanished from the database", sha256)
            return {"sha256": sha256, "status": "missing"}
        extraction = pipeline.finish(_source(document), readings, reader)
        extraction.seconds = time.time() - started
        run = save_run(session, document, extraction)
        return {"sha256": sha256, "status": run.status, "run": run.id}


@_task(name="gongkai.record_failure", ignore_result=True)
def record_failure(
    request: Any, exc: BaseException, traceback: Any, *, sha256: str, reader: str, reader_version: str
) -> None:
    """Errback (called in the worker with the failed task's request): store a failed run."""
    log.error("document %s failed for good in %s: %s", sha256, getattr(request, "task", "?"), exc)
    store_failure(sha256, reader, reader_version, _error(exc))


_SERVICES: dict[tuple[int, str], ReviewService] = {}


def service(url: str | None = None) -> ReviewService:
    """The engine's service on the workers' database, one per process (pool processes are forked):
    what `ingest_file` reads a held file through, exactly as the server's own thread does."""
    url = url or _database_url()
    key = (os.getpid(), url)
    found = _SERVICES.get(key)
    if found is None:
        found = _SERVICES[key] = ReviewService(url)
    return found


# OCR of a long scan takes minutes (about 3 s a page): the limits of one document's reading are too short,
# and the task must end before the broker hands its message to another worker (the visibility timeout).
_OCR_SOFT_LIMIT = max(_WORKER.soft_time_limit, 0.8 * _WORKER.visibility_timeout)
_OCR_LIMIT = max(_WORKER.time_limit, 0.9 * _WORKER.visibility_timeout)


@_task(bind=True, name="gongkai.ingest_file", ignore_result=True, acks_late=True, reject_on_worker_lost=True,
       soft_time_limit=_OCR_SOFT_LIMIT, time_limit=_OCR_LIMIT, **_RETRY)  # fmt: skip
def ingest_file(self: Task, file_id: int, reader: str = "rules") -> dict[str, Any]:
    """OCR one held file, store its documents, and queue each one not read yet for `reader`."""
    svc = service()
    state = pending.read_file(svc, file_id)
    unread = svc.unread_documents(state.documents) if state.documents else []
    if unread:
        with sessions()() as session:
            hashes = list(session.scalars(select(DocumentRow.sha256).where(DocumentRow.id.in_(unread))
                                          .order_by(DocumentRow.id)))  # fmt: skip
        from workers.sweep import enqueue

        enqueue(hashes, reader, reader_version(reader), _queue(self))
    return {"file": file_id, "status": state.status, "documents": list(state.documents), "queued": len(unread)}


@_task(name="gongkai.record_file_failure", ignore_result=True)
def record_file_failure(request: Any, exc: BaseException, traceback: Any, *, file_id: int) -> None:
    """Errback: a held file whose task failed for good (retries out, hard time limit) is marked failed with
    the reason; its bytes stay, and uploading it again queues it again."""
    log.error("file %s failed for good in %s: %s", file_id, getattr(request, "task", "?"), exc)
    with service().session() as session:
        row = session.get(FileRow, file_id)
        if row is not None and row.status != "done":
            set_file_status(session, file_id, "failed", code="unreadable", error=_error(exc)[:300])
