"""Documents per second through the queue: submitter → Redis → worker processes → PostgreSQL.

    python -m workers.bench --docs 1000 --workers 2

Makes `--docs` distinct text reports (real reports, each with one unique line appended so every
hash differs), starts `--workers` worker processes (`python -m workers.cli worker`, prefork,
`--concurrency` pool processes each) on a queue and Redis key prefix of their own and a fresh
PostgreSQL schema, then times `submit` (ingest, store each document, enqueue, poll the database
until every document has a run). It prints how it measured and what it measured as JSON, and
drops the schema and its Redis keys afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from extractor.settings import SAMPLE_REPORT, get_settings
from extractor.storage import make_engine, upgrade

ROOT = Path(__file__).resolve().parents[1]
SHARED_REAL = ROOT.parent / "shared" / "benchmark" / "real"
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def source_reports(folder: Path = SHARED_REAL, max_bytes: int = 20 * 1024) -> list[Path]:
    """The real text and markdown reports up to `max_bytes` (the bundled sample if there are none)."""
    found = sorted(p for p in folder.glob("*") if p.suffix in (".txt", ".md") and p.stat().st_size <= max_bytes)
    return found or [SAMPLE_REPORT]


def make_variants(sources: Sequence[Path], count: int, folder: Path, tag: str = "") -> list[Path]:
    """`count` reports, round-robin over `sources`, each ending in one unique line (distinct hashes)."""
    texts = [(p.stem, p.suffix, p.read_text(encoding="utf-8")) for p in sources]
    tag = tag or uuid.uuid4().hex[:8]
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(count):
        stem, suffix, text = texts[i % len(texts)]
        path = folder / f"{stem}-{i:05d}{suffix}"
        path.write_text(f"{text.rstrip()}\n\n（本报告副本编号 {tag}-{i:05d}）\n", encoding="utf-8")
        out.append(path)
    return out


@contextmanager
def pg_schema(url: str, prefix: str = "gk_bench") -> Iterator[str]:
    """A fresh schema on the PostgreSQL server at `url`, as a URL whose search_path points at it; dropped after."""
    schema = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = make_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        scoped = sa.make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
        try:
            yield scoped.render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        admin.dispose()


def worker_env(database_url: str, queue: str, key_prefix: str, **worker: Any) -> dict[str, str]:
    """The environment of a worker process bound to one database, queue and Redis key prefix."""
    env = dict(os.environ)
    env.update(
        {
            "GONGKAI_DATABASE_URL": database_url,
            "GONGKAI_WORKER_QUEUE": queue,
            "GONGKAI_WORKER_KEY_PREFIX": key_prefix,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
        }
    )
    env.update({f"GONGKAI_WORKER_{k.upper()}": str(v) for k, v in worker.items()})
    return env


def start_worker(
    env: dict[str, str], concurrency: int = 1, log: Path | None = None, loglevel: str = "WARNING"
) -> subprocess.Popen[bytes]:
    """`python -m workers.cli worker` in its own process group (so it can be killed whole)."""
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115  # the child keeps it
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "workers.cli", "worker", f"--concurrency={concurrency}", f"--loglevel={loglevel}"],
            env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    finally:
        if log:
            out.close()  # type: ignore[union-attr]


def stop_workers(
    processes: Sequence[subprocess.Popen[bytes]], sig: int = signal.SIGTERM, timeout: float = 20.0
) -> None:
    """Signal each worker's whole process group (main process and pool children), then reap them all."""
    for process in processes:
        if process.poll() is None:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, sig)
    for process in processes:
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=timeout)


def wait_ready(processes: Sequence[subprocess.Popen[bytes]], timeout: float = 60.0) -> None:
    """Until each worker answers a ping (their hostnames carry the process id, see `worker_argv`)."""
    from workers.app import app

    wanted = {f"gongkai-{p.pid}@" for p in processes}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for process in processes:
            if process.poll() is not None:
                raise RuntimeError(f"worker {process.pid} exited with {process.returncode}")
        replies = app.control.ping(timeout=0.5) or []
        names = {name.split("@", 1)[0] + "@" for reply in replies for name in reply}
        if wanted <= names:
            return
    raise RuntimeError(f"{len(processes)} workers did not answer within {timeout:.0f} s")


def clear_redis(broker_url: str, prefix: str) -> None:
    """Delete every key under this run's prefix (broker and result backend databases)."""
    import redis

    for url in {broker_url, get_settings().result_backend}:
        client = redis.Redis.from_url(url)
        try:
            keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
            for start in range(0, len(keys), 500):
                client.delete(*keys[start : start + 500])
        finally:
            client.close()


def run(docs: int, workers: int, concurrency: int, fanout: str, pg_url: str, keep_logs: bool = False) -> dict[str, Any]:
    tag = uuid.uuid4().hex[:8]
    queue = f"gk-bench-{tag}"
    prefix = f"gk-bench-{tag}:"
    if "workers.app" in sys.modules:
        raise RuntimeError("run() configures the Celery app through the environment: call it first")
    # The submitter in this process talks to the workers' queue and key prefix.
    os.environ.update({"GONGKAI_WORKER_QUEUE": queue, "GONGKAI_WORKER_KEY_PREFIX": prefix})
    from workers.cli import submit

    with tempfile.TemporaryDirectory(prefix="gk-bench-") as tmp, pg_schema(pg_url) as url:
        folder = Path(tmp)
        sources = source_reports()
        paths = make_variants(sources, docs, folder / "docs", tag)
        upgrade(url)
        env = worker_env(url, queue, prefix, fanout=fanout)
        logs = [folder / f"worker-{i}.log" for i in range(workers)]
        procs = [start_worker(env, concurrency, logs[i]) for i in range(workers)]
        try:
            wait_ready(procs)
            started = time.perf_counter()
            submission = submit(paths, url, wait=True, timeout=600, progress=False)
            wall = time.perf_counter() - started
        finally:
            stop_workers(procs)
            clear_redis(get_settings().broker_url, prefix)
            if keep_logs:
                for log in logs:
                    sys.stderr.write(log.read_text(errors="replace"))
        engine = make_engine(url)
        with engine.connect() as conn:
            first, last, runs, done, fields = conn.execute(
                sa.text(
                    "select min(created_at), max(created_at), count(*), count(*) filter (where status = 'done'), "
                    "(select count(*) from fields) from runs"
                )
            ).one()
        engine.dispose()
    enqueue_to_last = last.timestamp() - submission.enqueue_started
    return {
        "how": (
            f"{docs} distinct text reports ({len(sources)} real reports ≤ 20 KB round-robin, one unique line each); "
            f"{workers} worker processes `python -m workers.cli worker --concurrency={concurrency}` (prefork), "
            f"fanout={fanout}; Redis broker and result backend; PostgreSQL (fresh schema). Wall time of one "
            "`workers.cli.submit` call in this process: ingest each file, store documents (200 per transaction), "
            "enqueue, poll the database every 0.25 s until every document has a run. Workers were started and "
            "answered a ping before the clock started."
        ),
        "documents": docs,
        "runs": runs,
        "done": done,
        "fields_stored": fields,
        "requeued": submission.requeued,
        "seconds_end_to_end": round(wall, 2),
        "docs_per_second_end_to_end": round(docs / wall, 1),
        "seconds_first_enqueue_to_last_run": round(enqueue_to_last, 2),
        "docs_per_second_enqueue_to_last_run": round(docs / enqueue_to_last, 1),
        "seconds_first_to_last_run_stored": round((last - first).total_seconds(), 2),
        "cpus": os.cpu_count(),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--docs", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    parser.add_argument("--concurrency", type=int, default=1, help="pool processes per worker")
    parser.add_argument("--fanout", choices=["auto", "sections", "document"], default="auto")
    parser.add_argument("--pg", default=os.environ.get("GONGKAI_TEST_POSTGRES_URL", DEFAULT_PG))
    parser.add_argument("--logs", action="store_true", help="print the workers' logs afterwards")
    args = parser.parse_args(argv)
    result = run(args.docs, args.workers, args.concurrency, args.fanout, args.pg, args.logs)
    sys.stdout.write(json.dumps(result, ensure_ascii=False, indent=1) + "\n")
    return 0 if result["done"] == args.docs else 1


if __name__ == "__main__":
    raise SystemExit(main())
