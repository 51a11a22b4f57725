"""A broker that goes away: one line when it (or the database) is unreachable at start, waiting
through an outage mid-batch, and no document lost when a Redis without persistence restarts.

Every test here starts a Redis of its own (`redis-server` on a free port, nothing kept on disk)
so it can stop and restart it without touching the shared one; the database is a fresh
PostgreSQL schema. Workers, submitters and the CLI are real subprocesses, as in
tests/test_workers.py, whose machinery (workers.bench) this reuses.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from evals.shared import shared_real
from extractor.settings import Settings
from extractor.storage import make_engine, upgrade
from tests.services import require_service
from workers.app import BrokerUnavailable, make_app
from workers.bench import make_variants, pg_schema, source_reports, start_worker, stop_workers, worker_env
from workers.config import WorkerSettings
from workers.sweep import enqueue

PG_URL = os.environ.get("GONGKAI_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_SERVER = shutil.which("redis-server")
ROOT = Path(__file__).resolve().parents[1]
SEED = shared_real() / "seed-dongtonghua-2020.txt"
FAST_RECOVERY = {"visibility_timeout": 3, "restore_interval": 1, "restore_throttle": 1}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class OwnRedis:
    """A redis-server of this test's own on a free port: no RDB, no AOF, so a restart loses
    every queued and unacknowledged message, as a crashed cache-only Redis does."""

    def __init__(self, log: Path) -> None:
        if REDIS_SERVER is None:
            require_service("redis-server is not installed (apt-get install redis-server)")
        self.port = free_port()
        self.log = log
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None
        self.restarts = 0

    def start(self) -> None:
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(
                [str(REDIS_SERVER), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no", "--protected-mode", "no"],
                stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"redis-server on port {self.port} did not start: {self.log.read_text()[-500:]}")

    def stop(self) -> None:
        """SIGKILL: a crash, not a shutdown (and with nothing to save either way)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None

    def restart(self, down: float = 3.0) -> None:
        self.stop()
        time.sleep(down)
        self.start()
        self.restarts += 1


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    server = OwnRedis(tmp_path / "redis.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_url() -> Iterator[str]:
    try:
        with pg_schema(PG_URL, prefix="gk_test_outage") as url:
            upgrade(url)
            yield url
    except sa.exc.OperationalError as exc:
        require_service(f"PostgreSQL not reachable at {PG_URL}: {exc}")


def _env(redis: OwnRedis, url: str, queue: str, **worker: Any) -> dict[str, str]:
    env = worker_env(url, queue, "", **{**FAST_RECOVERY, **worker})
    env.update({"GONGKAI_BROKER_URL": redis.url, "GONGKAI_RESULT_BACKEND": redis.url.replace("/0", "/1")})
    env.pop("GONGKAI_WORKER_KEY_PREFIX", None)
    return env


def _workers(env: dict[str, str], logs: Path, count: int) -> list[subprocess.Popen[bytes]]:
    """Start `count` workers and wait until each says it is ready (its log line, not a ping:
    the in-process Celery app of the test session talks to the shared Redis, not this one)."""
    logs.mkdir(exist_ok=True)
    start = len(list(logs.glob("worker-*.log")))
    paths = [logs / f"worker-{start + i}.log" for i in range(count)]
    procs = [start_worker(env, 1, path, "INFO") for path in paths]
    deadline = time.monotonic() + 60
    while not all(" ready." in path.read_text(errors="replace") for path in paths):
        for proc, path in zip(procs, paths, strict=True):
            assert proc.poll() is None, path.read_text(errors="replace")[-3000:]
        assert time.monotonic() < deadline, "workers did not start"
        time.sleep(0.2)
    return procs


def _submit(env: dict[str, str], url: str, queue: str, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "workers.cli", "submit", *args, "--db", url, "--queue", queue],
        env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip


def counts(url: str) -> tuple[int, int]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            docs = conn.execute(sa.text("select count(*) from documents")).scalar_one()
            runs = conn.execute(sa.text("select count(*) from runs")).scalar_one()
            return int(docs), int(runs)
    finally:
        engine.dispose()


def runs_per_document(url: str) -> dict[int, int]:
    """How many documents have n runs, for each n (every document counted, runs or not)."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "select n, count(*) from (select d.id, count(r.id) as n from documents d "
                    "left join runs r on r.document_id = d.id and r.status = 'done' group by d.id) x group by n"
                )
            ).all()
            return {int(n): int(c) for n, c in rows}
    finally:
        engine.dispose()


# --------------------------------------------------------------------------- one line, no traceback


def _cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "workers.cli", *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60
    )


@pytest.mark.skipif(not SEED.exists(), reason="shared benchmark not beside the checkout")
@pytest.mark.parametrize("command", ["submit", "worker"])
def test_unreachable_broker_or_database_is_one_line(command: str, tmp_path: Path) -> None:
    """Nothing listening on the broker's or the database's port: one line naming the setting and
    the address (never the password), exit code 2, no traceback, nothing stored."""
    dead = free_port()
    db = tmp_path / "x.db"
    args = [command, str(SEED)] if command == "submit" else [command]
    base = {**os.environ, "GONGKAI_DATABASE_URL": f"sqlite:///{db}"}

    broker = _cli(args, {**base, "GONGKAI_BROKER_URL": f"redis://:secret@127.0.0.1:{dead}/0"})
    assert broker.returncode == 2, broker.stderr
    lines = broker.stderr.strip().splitlines()
    assert len(lines) == 1, broker.stderr
    assert "GONGKAI_BROKER_URL" in lines[0] and f"127.0.0.1:{dead}" in lines[0] and "secret" not in lines[0]

    pg = f"postgresql+psycopg://postgres:secret@127.0.0.1:{dead}/test"
    database = _cli(args, {**base, "GONGKAI_DATABASE_URL": pg})
    assert database.returncode == 2, database.stderr
    lines = database.stderr.strip().splitlines()
    assert len(lines) == 1, database.stderr
    assert "GONGKAI_DATABASE_URL" in lines[0] and f"127.0.0.1:{dead}/test" in lines[0] and "secret" not in lines[0]

    if command == "submit":
        missing = _cli([*args, "--db", f"sqlite:///{tmp_path}/no/such/dir/x.db"], base)
        assert missing.returncode == 2 and len(missing.stderr.strip().splitlines()) == 1, missing.stderr
        assert "--db" in missing.stderr and "no/such/dir/x.db" in missing.stderr
    assert not db.exists() or counts(f"sqlite:///{db}") == (0, 0)


def test_database_unavailable_for_extract_is_one_line() -> None:
    """What `gongkai extract` gets from storage when the database is down (the door prints it)."""
    from extractor.storage.database import DatabaseUnavailable, check_database

    dead = free_port()
    with pytest.raises(DatabaseUnavailable) as caught:
        upgrade(f"postgresql+psycopg://postgres:pw@127.0.0.1:{dead}/test")
    assert str(caught.value).count("\n") == 0 and f"127.0.0.1:{dead}" in str(caught.value)
    assert "GONGKAI_DATABASE_URL" in str(caught.value) and "pw" not in str(caught.value)
    with pytest.raises(DatabaseUnavailable):
        check_database(f"postgresql+psycopg://postgres@127.0.0.1:{dead}/test")


# --------------------------------------------------------------------------- waiting through an outage


def test_enqueue_waits_for_the_broker_and_then_gives_up_with_one_line(tmp_path: Path) -> None:
    """Broker down: `enqueue` says it is waiting, and after its bound raises BrokerUnavailable."""
    dead = f"redis://127.0.0.1:{free_port()}/0"
    app = make_app(Settings(broker_url=dead, result_backend=dead), WorkerSettings())
    waits: list[float] = []
    started = time.monotonic()
    with pytest.raises(BrokerUnavailable) as caught:
        enqueue(["a" * 64], "rules", "v", "q", wait=2.0, app=app, on_wait=lambda *args: waits.append(args[3]))
    assert 1.5 < time.monotonic() - started < 15
    assert waits and "GONGKAI_BROKER_URL" in str(caught.value) and "\n" not in str(caught.value)


def test_enqueue_resumes_when_the_broker_comes_back(own_redis: OwnRedis) -> None:
    """Broker down for 6 s (longer than kombu's own silent reconnecting): `enqueue` says it is
    waiting, and every message is sent once the broker is back."""
    import redis

    app = make_app(Settings(broker_url=own_redis.url, result_backend=own_redis.url), WorkerSettings())
    app.conf.broker_connection_timeout = 1.0  # kombu's own silent reconnecting: 1 s, not 4, before ours speaks
    queue = f"q-{uuid.uuid4().hex[:6]}"
    own_redis.stop()
    threading.Timer(6.0, own_redis.start).start()
    waited, back = [], []
    sent = enqueue([f"{i:064d}" for i in range(20)], "rules", "v", queue, wait=30, app=app,
                   on_wait=lambda *a: waited.append(a), on_back=lambda: back.append(1))  # fmt: skip
    assert sent == 20 and waited and back
    client = redis.Redis.from_url(own_redis.url)
    try:
        assert client.llen(queue) == 20
    finally:
        client.close()


# --------------------------------------------------------------------------- lost messages come back


@pytest.mark.postgres
def test_resume_and_sweep_queue_what_a_restart_lost(own_redis: OwnRedis, pg_url: str, tmp_path: Path) -> None:
    """Documents queued, then Redis restarts (messages gone). `submit --resume` queues them again
    from the database; and, without anyone resubmitting, the workers' sweep does too."""
    queue = f"gk-outage-{uuid.uuid4().hex[:6]}"
    paths = [str(p) for p in make_variants(source_reports(), 40, tmp_path / "docs")]
    env = _env(own_redis, pg_url, queue, sweep_interval=0)
    first = _submit(env, pg_url, queue, *paths[:20], "--no-wait")
    assert first.wait(120) == 0, first.stderr.read().decode() if first.stderr else ""
    own_redis.restart(down=0.5)
    workers = _workers(env, tmp_path / "logs", 1)
    try:
        resume = _submit(env, pg_url, queue, "--resume", "--timeout", "120")
        _, err = resume.communicate(timeout=180)
        assert resume.returncode == 0, err.decode()
        assert "20 stored documents resumed" in err.decode()
        assert runs_per_document(pg_url) == {1: 20}
    finally:
        stop_workers(workers)

    # The sweep: 20 more queued, lost in a restart; a worker whose sweep runs every second finds
    # them (stored 2 s ago, no run, queue empty) and queues them itself.
    second = _submit(env, pg_url, queue, *paths[20:], "--no-wait")
    assert second.wait(120) == 0
    own_redis.restart(down=0.5)
    sweeping = _workers(_env(own_redis, pg_url, queue, sweep_interval=1, sweep_age=2), tmp_path / "logs", 1)
    try:
        deadline = time.monotonic() + 90
        while runs_per_document(pg_url) != {1: 40}:
            assert time.monotonic() < deadline, f"the sweep did not bring them back: {runs_per_document(pg_url)}"
            time.sleep(0.5)
    finally:
        stop_workers(sweeping)
    logs = "".join(p.read_text(errors="replace") for p in (tmp_path / "logs").glob("*.log"))
    assert "sweep: 20 stored documents had no run" in logs


@pytest.mark.slow
@pytest.mark.postgres
def test_redis_restarts_and_a_killed_worker_lose_no_document(own_redis: OwnRedis, pg_url: str, tmp_path: Path) -> None:
    """3,000 documents; Redis (no persistence) is restarted twice during the batch, once while the
    submitter is queuing and once while the workers are reading, and a worker is SIGKILLed. The
    submitter waits out the outages; the sweep re-queues what the restarts lost. Every document
    ends with exactly one done run (after `submit --resume` if the submitter gave up)."""
    total = 3000
    queue = f"gk-outage-{uuid.uuid4().hex[:6]}"
    paths = [str(p) for p in make_variants(source_reports(), total, tmp_path / "docs")]
    env = _env(own_redis, pg_url, queue, sweep_interval=3, sweep_age=10)
    logs = tmp_path / "logs"
    doomed, survivor = _workers(env, logs, 2)
    started = time.monotonic()
    submitter = _submit(env, pg_url, queue, *paths, "--timeout", "600")
    events: list[str] = []

    def wait_until(what: str, test: Any, limit: float = 240) -> None:
        deadline = time.monotonic() + limit
        while not test(*counts(pg_url)):
            assert time.monotonic() < deadline, f"never reached: {what} ({counts(pg_url)})"
            assert submitter.poll() is None or what.startswith("runs"), "the submitter ended early"
            time.sleep(0.1)
        events.append(f"{what} at {time.monotonic() - started:.1f} s {counts(pg_url)}")

    replacements: list[subprocess.Popen[bytes]] = []
    try:
        wait_until("queuing (documents >= 900)", lambda docs, runs: docs >= 900)
        own_redis.restart(down=3.0)
        wait_until("runs >= 1500", lambda docs, runs: runs >= 1500)
        own_redis.restart(down=3.0)
        wait_until("runs >= 2100", lambda docs, runs: runs >= 2100)
        os.killpg(doomed.pid, signal.SIGKILL)
        doomed.wait(timeout=10)
        events.append(f"worker killed at {time.monotonic() - started:.1f} s {counts(pg_url)}")
        replacements = _workers(env, logs, 1)
        _, err = submitter.communicate(timeout=600)
        text = err.decode(errors="replace")
        resumed = None
        if submitter.returncode != 0:  # e.g. it gave up on the broker: the database knows what is left
            resume = _submit(env, pg_url, queue, "--resume", "--timeout", "300")
            _, resumed = resume.communicate(timeout=400)
            assert resume.returncode == 0, resumed.decode(errors="replace")[-3000:]
        seconds = time.monotonic() - started
    finally:
        if submitter.poll() is None:
            submitter.kill()
        stop_workers([doomed, survivor, *replacements])

    assert own_redis.restarts == 2
    assert "Traceback" not in text, text[-3000:]
    assert counts(pg_url)[0] == total
    assert runs_per_document(pg_url) == {1: total}, "a document has no run or more than one"
    worker_logs = "".join(p.read_text(errors="replace") for p in logs.glob("*.log"))
    swept = sum(int(line.split("sweep: ", 1)[1].split()[0]) for line in worker_logs.splitlines() if "sweep: " in line)
    print(
        f"{total} documents, 2 Redis restarts (3 s each), 1 worker SIGKILLed; submitter exit "
        f"{submitter.returncode}{' then --resume' if resumed is not None else ''}; re-queued by the sweep: {swept}; "
        f"one done run per document; {seconds:.0f} s\n" + "\n".join(events) + "\n" + text.strip()[-600:]
    )
