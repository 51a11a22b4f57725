"""The Celery door against the real Redis and the real PostgreSQL, with real worker processes.

Each test gets a fresh PostgreSQL schema (as tests/test_storage.py does) and a queue of its own;
the whole session shares one Redis key prefix (every broker and result key lives under it, and
it is deleted at the end), so parallel runs never see each other's messages. Workers are
`python -m workers.cli worker` subprocesses, each in its own process group so a test can
SIGKILL one whole (main process and pool child) as a machine loss would.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from extractor.ingest import load_path
from extractor.pipeline import extract, reader_version
from extractor.settings import get_settings
from extractor.storage import load_extraction, make_engine, session_factory, upgrade
from tests.helpers import SHARED_REAL
from workers.bench import clear_redis, make_variants, pg_schema, source_reports, start_worker, stop_workers, wait_ready
from workers.cli import Submission, submit, wait_for, worker_argv
from workers.codec import plan_from_json, plan_to_json, reading_from_json, reading_to_json
from workers.config import WorkerSettings
from workers.tasks import application_name, fans_out

PG_URL = os.environ.get("GONGKAI_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SEED = SHARED_REAL / "seed-dongtonghua-2020.txt"
RUN = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
PREFIX = f"gk-test-{RUN}:"
# Fast recovery for the tests: a message taken by a worker that died is handed out again after
# 3 s (swept every second). Tasks here take well under a second, so none is delivered twice
# while it is still running (and if one were, the run is idempotent).
FAST_RECOVERY = {"visibility_timeout": 3, "restore_interval": 1, "restore_throttle": 1}

needs_shared = pytest.mark.skipif(not SEED.exists(), reason="shared benchmark not beside the checkout")


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def celery_app() -> Iterator[Any]:
    """The app in this (submitting) process, on this session's Redis key prefix."""
    import redis

    settings = get_settings()
    try:
        redis.Redis.from_url(settings.broker_url, socket_connect_timeout=3).ping()
    except redis.exceptions.ConnectionError as exc:
        from tests.services import require_service  # skip here, fail under CI=true

        require_service(f"Redis not reachable at {settings.broker_url} (set GONGKAI_BROKER_URL): {exc}")
    from workers.app import app, celery_config

    # Nothing has connected yet: the producer pool and queues are built on first use, from this.
    app.conf.update(celery_config(settings, WorkerSettings(key_prefix=PREFIX, **FAST_RECOVERY)))
    try:
        yield app
    finally:
        clear_redis(settings.broker_url, PREFIX)


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL schema for this test (dropped afterwards)."""
    try:
        with pg_schema(PG_URL, prefix="gk_test_workers") as url:
            upgrade(url)
            yield url
    except sa.exc.OperationalError as exc:
        from tests.services import require_service  # skip here, fail under CI=true

        require_service(f"PostgreSQL not reachable at {PG_URL} (set GONGKAI_TEST_POSTGRES_URL): {exc}")


Workers = Callable[..., list[subprocess.Popen[bytes]]]


@pytest.fixture
def queue() -> str:
    return f"gk-test-{RUN}-{uuid.uuid4().hex[:6]}"


@pytest.fixture
def workers(celery_app: Any, pg_url: str, queue: str, tmp_path: Path) -> Iterator[Workers]:
    """Start worker processes on this test's database and queue; all are stopped afterwards."""
    started: list[subprocess.Popen[bytes]] = []
    logs = tmp_path / "logs"
    logs.mkdir()

    def start(
        count: int = 2, concurrency: int = 1, loglevel: str = "WARNING", **worker: Any
    ) -> list[subprocess.Popen[bytes]]:
        env = {
            **os.environ,
            "GONGKAI_DATABASE_URL": pg_url,
            "GONGKAI_WORKER_QUEUE": queue,
            "GONGKAI_WORKER_KEY_PREFIX": PREFIX,
            **{f"GONGKAI_WORKER_{k.upper()}": str(v) for k, v in {**FAST_RECOVERY, **worker}.items()},
        }
        new = [start_worker(env, concurrency, logs / f"worker-{len(started) + i}.log", loglevel) for i in range(count)]
        started.extend(new)
        wait_ready(new, timeout=60)
        return new

    start.logs = logs  # type: ignore[attr-defined]
    yield start
    stop_workers(started)
    for log in sorted(logs.glob("*.log")):
        text = log.read_text(errors="replace")
        if "Traceback" in text:
            print(f"--- {log.name}\n{text[-4000:]}")  # shown by pytest for a failing test


def copies(tmp_path: Path, names: list[str]) -> list[Path]:
    folder = tmp_path / "in"
    folder.mkdir(exist_ok=True)
    out = []
    for name in names:
        shutil.copy(SHARED_REAL / name, folder / name)
        out.append(folder / name)
    return out


def run_rows(url: str) -> list[tuple[str, str, str, int]]:
    """(document sha256, run status, idempotency key, runs of that document) for every run."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return [
                (row[0], row[1], row[2], row[3])
                for row in conn.execute(
                    sa.text(
                        "select d.sha256, r.status, r.idempotency_key, count(*) over (partition by d.id) "
                        "from runs r join documents d on d.id = r.document_id order by r.id"
                    )
                )
            ]
    finally:
        engine.dispose()


def count(url: str, table: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text(f"select count(*) from {table}")).scalar_one())
    finally:
        engine.dispose()


def stored(url: str, sha256: str) -> dict[str, Any]:
    """The run stored for a document, as the detailed export (every cell with raw, span, reasons)."""
    engine = make_engine(url)
    try:
        with session_factory(engine)() as session:
            run_id = session.execute(
                sa.text("select r.id from runs r join documents d on d.id = r.document_id where d.sha256 = :s"),
                {"s": sha256},
            ).scalar_one()
            return load_extraction(session, run_id, apply_corrections=False).detailed()
    finally:
        engine.dispose()


def drained(celery_app: Any, queue: str, timeout: float = 30.0) -> None:
    """Until the queue is empty and no message is out with a worker (every task has ended)."""
    import redis

    client = redis.Redis.from_url(get_settings().broker_url)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if client.llen(f"{PREFIX}{queue}") == 0 and client.hlen(f"{PREFIX}unacked") == 0:
                return
            time.sleep(0.1)
    finally:
        client.close()
    raise AssertionError(f"queue {queue} did not drain in {timeout} s")


# --------------------------------------------------------------------------- units


def test_plan_and_reading_survive_json(tmp_path: Path) -> None:
    """What passes between tasks as JSON comes back equal: spans as tuples, ints as ints, floats as floats."""
    from extractor import pipeline

    doc = load_path(source_reports()[0])
    plan = pipeline.plan(doc)
    back = plan_from_json(json.loads(json.dumps(plan_to_json(plan))))
    assert back == plan
    for key in plan.regions:
        reading = pipeline.read_rules(doc, plan, [key])[0]
        again = reading_from_json(json.loads(json.dumps(reading_to_json(reading))))
        assert again.section == reading.section and again.notes == reading.notes
        assert [(f.key, f.value, type(f.value), f.span, f.reasons, f.status, f.hard) for f in again.fields] == [
            (f.key, f.value, type(f.value), f.span, f.reasons, f.status, f.hard) for f in reading.fields
        ]


def test_which_readers_fan_out() -> None:
    assert not fans_out("rules", "auto") and fans_out("llm", "auto")
    assert fans_out("rules", "sections") and fans_out("llm", "sections")
    assert not fans_out("llm", "document") and not fans_out("both", "sections") and not fans_out("auto", "auto")


def test_app_is_configured_for_at_least_once_delivery(celery_app: Any) -> None:
    conf = celery_app.conf
    assert conf.task_acks_late and conf.task_reject_on_worker_lost
    assert conf.worker_prefetch_multiplier == 1
    assert conf.task_serializer == conf.result_serializer == "json" and list(conf.accept_content) == ["json"]
    assert 0 < conf.task_soft_time_limit < conf.task_time_limit
    assert conf.result_expires <= 3600
    assert "--concurrency=3" in worker_argv(3, "q") and "--queues=q" in worker_argv(3, "q")
    retry = celery_app.tasks["gongkai.document"]
    assert retry.max_retries >= 1 and retry.retry_backoff and sa.exc.OperationalError in retry.autoretry_for


# --------------------------------------------------------------------------- end to end


@needs_shared
@pytest.mark.postgres
@pytest.mark.parametrize("fanout", ["auto", "sections"])
def test_batch_end_to_end(fanout: str, workers: Workers, pg_url: str, queue: str, tmp_path: Path) -> None:
    """A batch through Redis and two workers: one run per document, equal to the in-process reading."""
    workers(2, fanout=fanout)
    names = ["seed-dongtonghua-2020.txt", "real-pingtan-2024.txt", "real-shanghai-kewei-2024.md",
             "real-shuyang-fgj-2023.html", "real-huaian-2024-excerpt.txt"]  # fmt: skip
    paths = copies(tmp_path, names)
    (tmp_path / "in" / "empty.txt").write_bytes(b"")
    same = tmp_path / "in" / "seed copy.txt"
    shutil.copy(SEED, same)  # the same content under another name is the same document
    files = [*paths, tmp_path / "in" / "empty.txt", same]

    submission = submit(files, pg_url, queue=queue, wait=True, timeout=90, progress=False)

    assert len(submission.unreadable) == 1 and "empty.txt" in submission.unreadable[0]
    assert len(submission.keys) == len(names)
    assert submission.pending == [] and submission.failed == 0
    rows = run_rows(pg_url)
    assert len(rows) == len(names) == count(pg_url, "documents")
    assert {status for _, status, _, _ in rows} == {"done"}
    assert all(runs == 1 for *_, runs in rows)
    for path in paths:
        doc = load_path(path)
        assert stored(pg_url, doc.sha256) == extract(doc).detailed(), path.name

    seed = stored(pg_url, load_path(SEED).sha256)
    gold = json.loads(SEED.with_suffix(".gold.json").read_text(encoding="utf-8"))
    assert seed["template"] == gold["template"] == "2019" and seed["year"] == gold["year"] == 2020
    assert seed["fields"] == gold["fields"]
    assert seed["flags"] == {}
    assert seed["reader"] == "rules" and seed["reader_version"] == reader_version("rules")


@needs_shared
@pytest.mark.postgres
def test_duplicate_submission_creates_no_second_run(
    workers: Workers, celery_app: Any, pg_url: str, queue: str, tmp_path: Path
) -> None:
    workers(2)
    first = submit([SEED], pg_url, queue=queue, wait=True, timeout=60, progress=False)
    assert first.enqueued == 1 and first.pending == []

    again = submit(copies(tmp_path, ["seed-dongtonghua-2020.txt"]), pg_url, queue=queue, timeout=60, progress=False)
    assert again.already_done == 1 and again.enqueued == 0 and again.pending == []

    # Redelivery and duplicate messages, for a document already read and for a new one that two
    # workers may read at the same moment: still one run each.
    from workers.cli import _enqueue

    (fresh,) = make_variants([SEED], 1, tmp_path / "fresh")
    new = submit([fresh], pg_url, queue=queue, wait=False, progress=False)
    _enqueue(new, [*new.keys.values()] * 5)
    _enqueue(first, [*first.keys.values()] * 3)
    assert wait_for(new, timeout=60)
    drained(celery_app, queue)

    rows = run_rows(pg_url)
    assert len(rows) == 2 == count(pg_url, "documents")
    assert all(status == "done" and runs == 1 for _, status, _, runs in rows)


@needs_shared
@pytest.mark.postgres
def test_a_reader_failure_is_stored_as_a_failed_run(
    workers: Workers, pg_url: str, queue: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The LLM reader without a configured server: each section task fails, the chord's join
    stores a failed run with the reason, and the submitter sees the document finish."""
    for variable in ("GONGKAI_LLM_BASE_URL", "GONGKAI_LLM_MODEL"):
        monkeypatch.setenv(variable, "")  # here and in the workers: no .env file may configure one
    workers(1)
    submission = submit([SEED], pg_url, reader="llm", queue=queue, wait=True, timeout=60, progress=False)
    assert submission.failed == 1 and submission.pending == []
    engine = make_engine(pg_url)
    try:
        with engine.connect() as conn:
            status, error, reader = conn.execute(sa.text("select status, error, reader from runs")).one()
    finally:
        engine.dispose()
    assert (status, reader) == ("failed", "llm")
    assert "no LLM is configured" in error

    # Submitted again, it is read again (a success would replace the failed run); failing again,
    # it ends as failed once nothing has changed for `requeue_after` seconds.
    again = submit([SEED], pg_url, reader="llm", queue=queue, timeout=60, requeue_after=2, progress=False)
    assert again.enqueued == 1 and len(again.retrying) == 1
    assert again.failed == 1 and again.pending == []
    assert count(pg_url, "runs") == 1


@pytest.mark.postgres
def test_dropped_database_connections_are_retried(workers: Workers, pg_url: str, queue: str, tmp_path: Path) -> None:
    """PostgreSQL closes the workers' connections again and again mid-batch: the tasks that were
    using them fail with OperationalError, are retried with backoff, and every document still
    ends with exactly one done run."""
    total = 150
    paths = make_variants(source_reports(), total, tmp_path / "batch")
    workers(2, loglevel="INFO")
    submission = submit(paths, pg_url, queue=queue, wait=False, progress=False)
    admin = make_engine(PG_URL, isolation_level="AUTOCOMMIT")
    terminated = 0
    try:
        deadline = time.monotonic() + 60
        while count(pg_url, "runs") < total * 3 // 4 and time.monotonic() < deadline:
            with admin.connect() as conn:
                terminated += len(
                    conn.execute(
                        sa.text(
                            "select pg_terminate_backend(pid) from pg_stat_activity "
                            "where application_name = :name and pid <> pg_backend_pid()"
                        ),
                        {"name": application_name(queue)},
                    ).all()
                )
            time.sleep(0.2)
    finally:
        admin.dispose()
    assert terminated > 0
    assert wait_for(submission, timeout=90, requeue_after=30)
    rows = run_rows(pg_url)
    assert len(rows) == total and all(status == "done" and runs == 1 for _, status, _, runs in rows)
    logs = "".join(p.read_text(errors="replace") for p in workers.logs.glob("*.log"))  # type: ignore[attr-defined]
    assert "Retry in" in logs, "no task met a dropped connection (nothing was retried)"


@pytest.mark.slow
@pytest.mark.postgres
def test_killing_a_worker_mid_batch_loses_no_document(
    workers: Workers, pg_url: str, queue: str, tmp_path: Path
) -> None:
    """1,000 documents, two workers; one is SIGKILLed (main process and pool child) mid-batch and
    replaced. Its unacknowledged message goes back to the queue; every document ends with exactly
    one done run."""
    total = 1000
    paths = make_variants(source_reports(), total, tmp_path / "batch")
    doomed, survivor = workers(2)

    submission: Submission = submit(paths, pg_url, queue=queue, wait=False, progress=False)
    assert len(submission.keys) == total and submission.enqueued == total

    deadline = time.monotonic() + 90
    while count(pg_url, "runs") < total // 5:
        assert time.monotonic() < deadline, "workers made no progress"
        time.sleep(0.1)
    assert doomed.poll() is None and survivor.poll() is None
    killed_at = count(pg_url, "runs")
    os.killpg(doomed.pid, signal.SIGKILL)
    doomed.wait(timeout=10)
    workers(1)  # the replacement

    # `requeue_after` is the submitter's last resort (a message the broker lost outright); the
    # dead worker's message must come back through the broker's visibility timeout long before.
    assert wait_for(submission, timeout=120, requeue_after=30), f"{len(submission.pending)} documents never finished"
    rows = run_rows(pg_url)
    assert count(pg_url, "documents") == total
    assert len(rows) == total, "a document has no run or more than one"
    assert all(status == "done" and runs == 1 for _, status, _, runs in rows)
    assert {key for _, _, key, _ in rows} == set(submission.keys)
    assert killed_at < total, "the kill came after the batch was done"
    print(f"killed after {killed_at} runs; re-enqueued by the submitter: {submission.requeued}")

    sample = load_path(paths[total // 2])
    assert stored(pg_url, sample.sha256) == extract(sample).detailed()
