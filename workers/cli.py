"""`gongkai worker` and `gongkai submit`: the queue's two doors, registered by extractor/cli.py.

`submit` ingests each file, stores the document (the workers read it from the database, not
from the message), enqueues its hash, and waits until every document has a done or failed run
in the database. `worker` starts a Celery worker on the same broker and database.

Both check the database and the broker before doing anything: an unreachable one stops them with
one line naming the setting and the address (exit code 2). A broker that goes away later is
waited out (`workers.sweep.enqueue`); the database is the record of what still needs a run, so
`submit --resume` (or the same `submit` again) queues what a lost message left unread.

Also runnable on its own: `python -m workers.cli worker --concurrency 1`.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from extractor.ingest import IngestError, SourceDocument, load_path
from extractor.pipeline import READERS
from extractor.settings import get_settings
from extractor.split import describe, split
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
    compilations: list[str] = field(default_factory=list)  # one line per file cut into several documents
    finished: dict[str, str] = field(default_factory=dict)  # run key → "done" / "failed"
    retrying: set[str] = field(default_factory=set)  # keys whose stored run had failed: only "done" ends them
    already_done: int = 0
    enqueued: int = 0
    requeued: int = 0
    resumed: int = 0  # stored documents not done, queued by --resume
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


def _upgrade(url: str, setting: str = "GONGKAI_DATABASE_URL") -> None:
    """Migrate, tolerating a second process migrating the same empty database at the same moment.

    `DatabaseUnavailable` (one line, naming `setting`) when the database cannot be reached.
    """
    from sqlalchemy.exc import OperationalError

    from extractor.storage.database import DatabaseUnavailable, upgrade

    try:
        upgrade(url, setting=setting)
    except (OperationalError, DatabaseUnavailable):
        raise
    except Exception:
        time.sleep(1.0)
        upgrade(url, setting=setting)


def _fail(exc: Exception, code: int = 2) -> typer.Exit:
    """Print `exc` as the one line it is and return the exit to raise (no traceback)."""
    err_console.print(f"[red]error[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
    return typer.Exit(code=code)


def worker_command(
    concurrency: Annotated[int, typer.Option(help="pool processes (prefork) of this worker")] = 2,
    queues: Annotated[
        str | None, typer.Option(help="queues to consume, comma-separated (default GONGKAI_WORKER_QUEUE)")
    ] = None,
    pool: Annotated[str, typer.Option(help="prefork (time limits work) or solo")] = "prefork",
    loglevel: Annotated[str, typer.Option(help="DEBUG, INFO, WARNING, ERROR")] = "INFO",
) -> None:
    """Start a Celery worker that reads submitted documents into runs (broker GONGKAI_BROKER_URL)."""
    from extractor.storage.database import DatabaseUnavailable
    from workers.app import BrokerUnavailable, app, check_broker
    from workers.sweep import install_sweep

    settings = get_settings()
    try:
        _upgrade(settings.database_url)
        check_broker(settings.broker_url)
    except (DatabaseUnavailable, BrokerUnavailable) as exc:
        raise _fail(exc) from None
    names = queues or get_worker_settings().queue
    install_sweep(app, names.split(",")[0].strip(), settings.database_url)
    app.worker_main(worker_argv(concurrency, names, pool, loglevel))


def _ingest(
    paths: Iterable[Path], max_bytes: int, submission: Submission, report: Callable[[str], None],
    announce: Callable[[str], None] = lambda line: None,
) -> list[SourceDocument]:  # fmt: skip
    """The documents the files hold: unreadable files reported, a compilation cut into its reports."""
    docs: dict[str, SourceDocument] = {}
    for path in paths:
        try:
            doc = load_path(path, max_bytes=max_bytes)
        except IngestError as exc:
            line = f"{path}: {exc}"
            submission.unreadable.append(line)
            report(line)
            continue
        parts = split(doc)  # a 汇编 of several reports: one document (and run) per report
        if len(parts) > 1:
            line = describe(str(path), parts)
            submission.compilations.append(line)
            announce(line)
        for part in parts:
            docs.setdefault(part.sha256, part)  # the same content twice is one document
    return list(docs.values())


def _not_done(engine: Engine, reader: str, version: str) -> list[tuple[str, str]]:
    from extractor.storage.database import session_factory
    from extractor.storage.repository import documents_without_done_run

    with session_factory(engine)() as session:
        return documents_without_done_run(session, reader, version)


def _finished(engine: Engine, keys: list[str]) -> dict[str, str]:
    from sqlalchemy import select

    from extractor.storage import RunRow

    out: dict[str, str] = {}
    # Only reading: on SQLite a deferred BEGIN, so polling never queues behind the writers.
    with engine.connect().execution_options(sqlite_begin="DEFERRED") as conn:
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            stmt = select(RunRow.idempotency_key, RunRow.status).where(RunRow.idempotency_key.in_(chunk))
            out.update({key: status for key, status in conn.execute(stmt)})
    return out


def _enqueue(submission: Submission, hashes: list[str], report: Callable[[str], None] | None = None) -> None:
    """Queue `hashes`, waiting out a broker outage (bounded) and saying so through `report`."""
    from workers.sweep import enqueue

    total = len(hashes)

    def on_wait(exc: BaseException, sent: int, pause: float, left: float) -> None:
        from workers.app import broker_reason

        line = (f"broker unreachable ({broker_reason(exc)}); {sent} of {total} in this batch queued; "
                f"retrying in {pause:.1f} s, giving up in {left:.0f} s")  # fmt: skip
        (report or _warn)(line)

    def on_back() -> None:
        (report or _warn)("broker reachable again; queuing goes on")

    enqueue(hashes, submission.reader, submission.version, submission.queue, on_wait=on_wait, on_back=on_back)


def _warn(line: str) -> None:
    err_console.print(f"[yellow]waiting[/yellow] {escape(line)}", highlight=False, soft_wrap=True)


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
    resume: bool = False,
    database_setting: str = "GONGKAI_DATABASE_URL",
) -> Submission:
    """Store and enqueue every readable file; with `wait`, poll the database until each has a run.

    A document already done for this reader version is not enqueued again; one whose stored run
    failed is (a retry: a success replaces the failed run).

    `resume`: also queue every document already stored without a done run for this reader
    version (messages a broker restart lost, a submit that gave up). The database and the broker
    are checked first (`DatabaseUnavailable`, `BrokerUnavailable`, nothing stored); a broker that
    stays away longer than GONGKAI_WORKER_BROKER_WAIT mid-batch raises `BrokerUnavailable`, whose
    hint says how to queue what was stored.

    `requeue_after`: if no document finishes for this many seconds while some are still pending,
    enqueue those again (the tasks are idempotent). It covers the messages a broker can lose
    when a worker dies at the wrong instant; by default it is the hard time limit plus 30 s, so a
    task that may still be running is never doubled. A retried document still not done by then
    counts as failed again.
    """
    from extractor.storage import make_engine, run_key, save_source, session_factory
    from extractor.storage.database import retry_locked
    from workers.app import BrokerUnavailable, check_broker
    from workers.tasks import reader_version

    if reader not in READERS:
        raise ValueError(f"unknown reader {reader!r}; expected one of {', '.join(READERS)}")
    settings = get_settings()
    url = database_url or settings.database_url
    submission = Submission(url=url, reader=reader, version=reader_version(reader), queue=queue)
    _upgrade(url, database_setting)
    check_broker(settings.broker_url)
    engine = make_engine(url)
    bar = Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=err_console, disable=not progress,
    )  # fmt: skip
    try:
        with bar:

            def report(line: str) -> None:
                bar.console.print(f"[red]error[/red] {line}", highlight=False, soft_wrap=True)

            def announce(line: str) -> None:
                bar.console.print(escape(line), highlight=False, soft_wrap=True)

            docs = _ingest(files, settings.max_bytes, submission, report, announce)
            sent = bar.add_task("submitted", total=len(docs))
            read = bar.add_task("read", total=len(docs))
            factory = session_factory(engine)
            submission.enqueue_started = time.time()

            def warn(line: str) -> None:
                bar.console.print(f"[yellow]waiting[/yellow] {escape(line)}", highlight=False, soft_wrap=True)

            def store(chunk: list[SourceDocument]) -> None:
                with factory() as session:  # one short transaction per chunk, retried if SQLite is locked
                    for doc in chunk:
                        save_source(session, doc)
                    session.commit()

            def queue_chunk(keys: dict[str, str]) -> None:
                # Committed before the messages go out: a worker always finds the document.
                before = _finished(engine, list(keys))
                done = {k: s for k, s in before.items() if s == "done"}
                submission.already_done += len(done)
                submission.finished.update(done)
                submission.retrying.update(k for k, s in before.items() if s == "failed")  # read again
                submission.keys.update(keys)
                todo = [sha for key, sha in keys.items() if key not in done]
                try:
                    _enqueue(submission, todo, warn)
                except BrokerUnavailable as exc:
                    exc.hint = (f"{len(submission.keys)} documents are stored; run the same submit again, or "
                                "`gongkai submit --resume`, once the broker is back")  # fmt: skip
                    raise
                submission.enqueued += len(todo)

            for start in range(0, len(docs), CHUNK):
                chunk = docs[start : start + CHUNK]
                retry_locked(functools.partial(store, chunk))
                submission.names.update({d.sha256: d.name for d in chunk})
                queue_chunk({run_key(d.sha256, reader, submission.version): d.sha256 for d in chunk})
                bar.advance(sent, len(chunk))
                bar.update(read, completed=len(submission.finished))
            if resume:
                stored = _not_done(engine, reader, submission.version)
                fresh = [(sha, name) for sha, name in stored
                         if run_key(sha, reader, submission.version) not in submission.keys]  # fmt: skip
                bar.update(sent, total=len(docs) + len(fresh))
                bar.update(read, total=len(docs) + len(fresh))
                for start in range(0, len(fresh), CHUNK):
                    part = fresh[start : start + CHUNK]
                    submission.names.update(dict(part))
                    queue_chunk({run_key(sha, reader, submission.version): sha for sha, _ in part})
                    submission.resumed += len(part)
                    bar.advance(sent, len(part))
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
    """Poll the database until every submitted document has a done or failed run; False on timeout.

    A database that stops answering while we wait is waited for (GONGKAI_WORKER_BROKER_WAIT
    seconds, saying so), then `DatabaseUnavailable`.
    """
    from sqlalchemy.exc import InterfaceError, OperationalError

    from extractor.storage import make_engine
    from extractor.storage.database import DatabaseUnavailable, database_address

    own = engine is None
    engine = engine or make_engine(submission.url)
    worker = get_worker_settings()
    if requeue_after is None:
        requeue_after = worker.time_limit + 30.0
    started = last_change = time.monotonic()
    lost_since: float | None = None
    try:
        while True:
            pending = submission.pending
            if pending:
                try:
                    stored = _finished(engine, pending)
                except (OperationalError, InterfaceError) as exc:
                    now = time.monotonic()
                    lost_since = lost_since if lost_since is not None else now
                    reason = str(getattr(exc, "orig", None) or exc).splitlines()[0][:200]
                    if now - lost_since > worker.broker_wait:
                        raise DatabaseUnavailable(database_address(submission.url), reason) from exc
                    _warn(f"database unreachable ({reason}); retrying")
                    time.sleep(1.0)
                    continue
                lost_since = None
                found = {
                    key: status for key, status in stored.items() if status == "done" or key not in submission.retrying
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
    files: Annotated[list[Path] | None, typer.Argument(help="report files (none with --resume)")] = None,
    database_url: Annotated[
        str | None, typer.Option("--db", help="database URL (default GONGKAI_DATABASE_URL), the workers' own")
    ] = None,
    wait: Annotated[bool, typer.Option("--wait/--no-wait", help="wait until every document has a run")] = True,
    reader: Annotated[str, typer.Option(help="rules, llm, both or auto")] = "rules",
    queue: Annotated[str | None, typer.Option(help="queue to send to (default GONGKAI_WORKER_QUEUE)")] = None,
    timeout: Annotated[float | None, typer.Option(help="give up waiting after this many seconds")] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="also queue every stored document without a done run of this reader")
    ] = False,
) -> None:
    """Store each report and queue it for the workers; show progress until every run is in the database."""
    from extractor.storage.database import DatabaseUnavailable
    from workers.app import BrokerUnavailable

    if not files and not resume:
        err_console.print("[red]error[/red] give report files, or --resume to queue what is stored and not read")
        raise typer.Exit(code=2)
    setting = "--db" if database_url else "GONGKAI_DATABASE_URL"
    try:
        submission = submit(files or [], database_url, reader=reader, queue=queue, wait=wait, timeout=timeout,
                            resume=resume, database_setting=setting)  # fmt: skip
    except ValueError as exc:
        raise _fail(exc) from None
    except DatabaseUnavailable as exc:
        raise _fail(exc) from None
    except BrokerUnavailable as exc:
        raise _fail(exc, code=1 if exc.hint else 2) from None  # with a hint: documents were stored
    total = len(submission.keys)
    done = total - len(submission.pending) - submission.failed
    parts = [f"{total} documents submitted ({submission.already_done} already read)"]
    if submission.compilations:
        parts.append(f"{len(submission.compilations)} files held several reports, each read as its own document")
    if submission.resumed:
        parts.append(f"{submission.resumed} stored documents resumed")
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
