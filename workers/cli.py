"""`gongkai worker` and `gongkai submit`: the queue's two doors, registered by extractor/cli.py.

`submit` ingests each file, stores the document (the workers read it from the database, not
from the message), enqueues its hash, and waits until every document has a done or failed run
in the database. `worker` starts a Celery worker on the same broker and database.

Also runnable on its own: `python -m workers.cli worker --concurrency 1`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from extractor.ingest import IngestError, SourceDocument, load_path
from extractor.pipeline import READERS
from extractor.settings import get_settings
from workers.config import get_worker_settings

if TYPE_CHECKING:  # storage (SQLAlchemy, Alembic) and Celery load when a command runs, not with `gongkai`
    from sqlalchemy import Engine

err_console = Console(stderr=True)
CHUNK = 200  # documents stored per transaction and then enqueued
POLL_SECONDS = 0.25


@dataclass
class Submission:
    """What one `submit` call sent: idempotency key → document hash, and how each ended."""

    url: str
    reader: str
    version: str
    queue: str | None = None
    keys: dict[str, str] = field(default_factory=dict)  # run key → sha256
    names: dict[str, str] = field(default_factory=dict)  # sha256 → file name
    unreadable: list[str] = field(default_factory=list)  # one line per file that could not be ingested
    finished: dict[str, str] = field(default_factory=dict)  # run key → "done" / "failed"
    retrying: set[str] = field(default_factory=set)  # keys whose stored run had failed: only "done" ends them
    already_done: int = 0
    enqueued: int = 0
    requeued: int = 0
    enqueue_started: float = 0.0
    submitted_at: float = 0.0
    finished_at: float = 0.0

    @property
    def pending(self) -> list[str]:
        return [key for key in self.keys if key not in self.finished]

    @property
    def failed(self) -> int:
        return sum(status == "failed" for status in self.finished.values())


def worker_argv(concurrency: int, queues: str, pool: str = "prefork", loglevel: str = "INFO") -> list[str]:
    """The `celery worker` arguments the `worker` command uses (also how tests start workers)."""
    return [
        "worker",
        f"--concurrency={concurrency}",
        f"--queues={queues}",
        f"--pool={pool}",
        f"--loglevel={loglevel}",
        f"--hostname=gongkai-{os.getpid()}@%h",
        # No gossip, mingle or heartbeat: nothing here uses them and they cost broker traffic.
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]


def _upgrade(url: str) -> None:
    """Migrate, tolerating a second process migrating the same empty database at the same moment."""
    from sqlalchemy.exc import OperationalError

    from extractor.storage import upgrade

    try:
        upgrade(url)
    except OperationalError:
        raise
    except Exception:
        time.sleep(1.0)
        upgrade(url)


def worker_command(
    concurrency: Annotated[int, typer.Option(help="pool processes (prefork) of this worker")] = 2,
    queues: Annotated[
        str | None, typer.Option(help="queues to consume, comma-separated (default GONGKAI_WORKER_QUEUE)")
    ] = None,
    pool: Annotated[str, typer.Option(help="prefork (time limits work) or solo")] = "prefork",
    loglevel: Annotated[str, typer.Option(help="DEBUG, INFO, WARNING, ERROR")] = "INFO",
) -> None:
    """Start a Celery worker that reads submitted documents into runs (broker GONGKAI_BROKER_URL)."""
    from workers.app import app

    _upgrade(get_settings().database_url)
    app.worker_main(worker_argv(concurrency, queues or get_worker_settings().queue, pool, loglevel))


def _ingest(
    paths: Iterable[Path], max_bytes: int, submission: Submission, report: Callable[[str], None]
) -> list[SourceDocument]:
    docs: dict[str, SourceDocument] = {}
    for path in paths:
        try:
            doc = load_path(path, max_bytes=max_bytes)
        except IngestError as exc:
            line = f"{path}: {exc}"
            submission.unreadable.append(line)
            report(line)
            continue
        docs.setdefault(doc.sha256, doc)  # the same content twice is one document
    return list(docs.values())


def _finished(engine: Engine, keys: list[str]) -> dict[str, str]:
    from sqlalchemy import select

    from extractor.storage import RunRow

    out: dict[str, str] = {}
    with engine.connect() as conn:
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            stmt = select(RunRow.idempotency_key, RunRow.status).where(RunRow.idempotency_key.in_(chunk))
            out.update({key: status for key, status in conn.execute(stmt)})
    return out


def _enqueue(submission: Submission, hashes: list[str]) -> None:
    from workers.app import app
    from workers.tasks import process_document, record_failure

    with app.producer_or_acquire() as producer:
        for sha256 in hashes:
            failure = record_failure.s(sha256=sha256, reader=submission.reader, reader_version=submission.version)
            process_document.apply_async(
                (sha256, submission.reader), link_error=failure, producer=producer, queue=submission.queue
            )


def submit(
    files: list[Path],
    database_url: str | None = None,
    *,
    reader: str = "rules",
    queue: str | None = None,
    wait: bool = True,
    timeout: float | None = None,
    requeue_after: float | None = None,
    progress: bool = True,
) -> Submission:
    """Store and enqueue every readable file; with `wait`, poll the database until each has a run.

    A document already done for this reader version is not enqueued again; one whose stored run
    failed is (a retry: a success replaces the failed run).

    `requeue_after`: if no document finishes for this many seconds while some are still pending,
    enqueue those again (the tasks are idempotent). It covers the messages a broker can lose
    when a worker dies at the wrong instant; by default it is the hard time limit plus 30 s, so a
    task that may still be running is never doubled. A retried document still not done by then
    counts as failed again.
    """
    from extractor.storage import make_engine, run_key, save_source, session_factory, session_scope
    from workers.tasks import reader_version

    if reader not in READERS:
        raise ValueError(f"unknown reader {reader!r}; expected one of {', '.join(READERS)}")
    settings = get_settings()
    url = database_url or settings.database_url
    submission = Submission(url=url, reader=reader, version=reader_version(reader), queue=queue)
    _upgrade(url)
    engine = make_engine(url)
    bar = Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=err_console, disable=not progress,
    )  # fmt: skip
    try:
        with bar:

            def report(line: str) -> None:
                bar.console.print(f"[red]error[/red] {line}", highlight=False, soft_wrap=True)

            docs = _ingest(files, settings.max_bytes, submission, report)
            sent = bar.add_task("submitted", total=len(docs))
            read = bar.add_task("read", total=len(docs))
            factory = session_factory(engine)
            submission.enqueue_started = time.time()
            for start in range(0, len(docs), CHUNK):
                chunk = docs[start : start + CHUNK]
                keys = {run_key(d.sha256, reader, submission.version): d.sha256 for d in chunk}
                with session_scope(factory) as session:
                    for doc in chunk:
                        save_source(session, doc)
                # Committed before the messages go out: a worker always finds the document.
                before = _finished(engine, list(keys))
                done = {k: s for k, s in before.items() if s == "done"}
                submission.already_done += len(done)
                submission.finished.update(done)
                submission.retrying.update(k for k, s in before.items() if s == "failed")  # read again
                submission.keys.update(keys)
                submission.names.update({d.sha256: d.name for d in chunk})
                todo = [sha for key, sha in keys.items() if key not in done]
                _enqueue(submission, todo)
                submission.enqueued += len(todo)
                bar.advance(sent, len(chunk))
                bar.update(read, completed=len(submission.finished))
            submission.submitted_at = time.time()
            if wait:
                wait_for(submission, engine, timeout=timeout, requeue_after=requeue_after,
                         on_progress=lambda n: bar.update(read, completed=n))  # fmt: skip
    finally:
        engine.dispose()
    return submission


def wait_for(
    submission: Submission,
    engine: Engine | None = None,
    *,
    timeout: float | None = None,
    requeue_after: float | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> bool:
    """Poll the database until every submitted document has a done or failed run; False on timeout."""
    from extractor.storage import make_engine

    own = engine is None
    engine = engine or make_engine(submission.url)
    if requeue_after is None:
        requeue_after = get_worker_settings().time_limit + 30.0
    started = last_change = time.monotonic()
    try:
        while True:
            pending = submission.pending
            if pending:
                found = {
                    key: status
                    for key, status in _finished(engine, pending).items()
                    if status == "done" or key not in submission.retrying
                }
                if found:
                    submission.finished.update(found)
                    last_change = time.monotonic()
                    if on_progress:
                        on_progress(len(submission.finished))
            if not submission.pending:
                submission.finished_at = time.time()
                return True
            now = time.monotonic()
            if timeout is not None and now - started > timeout:
                return False
            if requeue_after > 0 and now - last_change > requeue_after:
                # A document read again after a failed run that is still not done has failed again
                # (storage keeps the first failed run as it was); the rest may have been lost.
                again = [key for key in submission.pending if key in submission.retrying]
                submission.finished.update(dict.fromkeys(again, "failed"))
                hashes = [submission.keys[key] for key in submission.pending]
                _enqueue(submission, hashes)
                submission.requeued += len(hashes)
                last_change = now
            time.sleep(POLL_SECONDS)
    finally:
        if own:
            engine.dispose()


def submit_command(
    files: Annotated[list[Path], typer.Argument(help="report files")],
    database_url: Annotated[
        str | None, typer.Option("--db", help="database URL (default GONGKAI_DATABASE_URL), the workers' own")
    ] = None,
    wait: Annotated[bool, typer.Option("--wait/--no-wait", help="wait until every document has a run")] = True,
    reader: Annotated[str, typer.Option(help="rules, llm, both or auto")] = "rules",
    queue: Annotated[str | None, typer.Option(help="queue to send to (default GONGKAI_WORKER_QUEUE)")] = None,
    timeout: Annotated[float | None, typer.Option(help="give up waiting after this many seconds")] = None,
) -> None:
    """Store each report and queue it for the workers; show progress until every run is in the database."""
    try:
        submission = submit(files, database_url, reader=reader, queue=queue, wait=wait, timeout=timeout)
    except ValueError as exc:
        err_console.print(f"[red]error[/red] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(code=2) from exc
    total = len(submission.keys)
    done = total - len(submission.pending) - submission.failed
    parts = [f"{total} documents submitted ({submission.already_done} already read)"]
    if wait:
        parts.append(f"{done} done, {submission.failed} failed")
        if submission.pending:
            parts.append(f"{len(submission.pending)} still pending")
        if submission.requeued:
            parts.append(f"{submission.requeued} re-enqueued after a stall")
    if submission.unreadable:
        parts.append(f"{len(submission.unreadable)} files unreadable")
    err_console.print("; ".join(parts), highlight=False, soft_wrap=True)
    if submission.unreadable or (wait and (submission.failed or submission.pending)):
        raise typer.Exit(code=1)


cli = typer.Typer(add_completion=False, help="gongkai's Celery door: run a worker or submit documents.")
cli.command("worker")(worker_command)
cli.command("submit")(submit_command)

if __name__ == "__main__":
    cli()
