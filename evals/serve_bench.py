"""The review service's speed: uploads per second through `gongkai serve`, the document page, a correction.

    .venv/bin/python -m evals.serve_bench --docs 1000 --mode both --out out/serve-bench.json

A benchmark, not a timed test: the figures depend on the machine and on what else runs on it.

What each side does (like with like, one client in this process over HTTP on 127.0.0.1):

- **Uploads.** `--docs` distinct synthetic reports (`evals.synth.generate`, seed `--seed`: the
  plain-text, markdown and HTML layouts it has, templates 2019 and 2021, about 200 cells each;
  every one has its own content hash). They are POSTed to `/api/documents` (multipart field
  `files`, `--batch` files per request, one request at a time, bearer token of an admin made with
  `gongkai user create`). *Upload* is the wall time from the first request sent to the last
  answer: ingest, hash and store, queue. *All read* is the wall time from the first request sent
  until `GET /api/documents?status=done` plus `status=failed` count every document (polled every
  0.25 s). Documents per second are `--docs` over each.
  - `serve`: a real `gongkai serve --workers thread` process (its in-process reader thread) on a
    SQLite file in a temporary folder.
  - `celery`: `gongkai serve --workers celery` storing into PostgreSQL (a fresh schema on `--pg`)
    and queueing on Redis (`GONGKAI_BROKER_URL`, a queue and key prefix of its own), with
    `--workers` `gongkai worker` processes (`python -m workers.cli worker --concurrency=1`) that
    answered a ping before the clock started.
- **Document page.** On the same server, after every document is read: a 2021 report with 200
  cells; one logged-in browser session (the `/ui/login` form with its CSRF token) GETs
  `/ui/documents/{id}` `--page-repeats` times after 3 warm-up requests, and a token GETs the JSON
  `/api/documents/{id}` as often. *Server* time is the `Server-Timing: app;dur=` header (the app's
  middleware: routing, database, rendering; no network), *client* time is the wall time of the
  whole request as seen here (connection reused). Median and 95th percentile.
- **Correction round trip.** `--corrections` POSTs of `{key, value, expected_version}` to
  `/api/documents/{id}/corrections` on distinct cells of that document (value: the cell's value
  plus one), each at the version the previous answer gave; the answer carries the re-checked sums.
  Server and client time as above. Then as many accepts (`{key, accept: true, expected_version}`)
  on the next cells, and the page again, its history now holding every one of those writes.

Every process started here is stopped (its whole process group) on exit, error or Ctrl-C; the
PostgreSQL schema is dropped and the run's Redis keys deleted.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from evals.review_load import quantile
from evals.synth import generate

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
DEFAULT_BROKER = "redis://127.0.0.1:6379/0"
USER, PASSWORD = "bench", "bench-password-123"
POLL_SECONDS = 0.25
SERVER_TIMING = re.compile(r"app;dur=([0-9.]+)")
CSRF_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


@dataclass(frozen=True)
class Upload:
    """One generated report: file name and bytes, and what its gold says (template, cell count)."""

    name: str
    body: bytes
    template: str
    cells: int


def reports(count: int, seed: int = 11) -> list[Upload]:
    """`count` distinct synthetic reports; names carry the index so no two collide."""
    out = []
    for i, doc in enumerate(generate(seed, count)):
        out.append(Upload(f"{doc.name}-{i:05d}.{doc.ext}", doc.body, doc.template, len(doc.fields)))
    return out


def gongkai() -> str:
    """The `gongkai` console script beside this interpreter (the venv's)."""
    found = Path(sys.executable).parent / "gongkai"
    return str(found) if found.exists() else shutil.which("gongkai") or "gongkai"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def stop(process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    """SIGTERM to the process's own group, then SIGKILL if it is still there after `timeout`."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=timeout)


def create_user(env: dict[str, str]) -> str:
    """An admin account through the CLI (which also creates the tables); returns its API token."""
    made = subprocess.run(
        [gongkai(), "user", "create", USER, "--role", "admin", "--password", PASSWORD],
        env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    if made.returncode != 0:
        raise RuntimeError(f"gongkai user create failed: {made.stderr.strip()}")
    return made.stdout.strip().splitlines()[-1]


@contextlib.contextmanager
def served(env: dict[str, str], workers: str, log: Path) -> Iterator[str]:
    """`gongkai serve --workers W` on a free port, in its own process group; yields its base URL."""
    port = free_port()
    command = [gongkai(), "serve", "--workers", workers, "--port", str(port), "--log-level", "warning"]
    with open(log, "ab") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            if process.poll() is not None:
                raise RuntimeError(f"gongkai serve exited with {process.returncode}: {log.read_text(errors='replace')}")
            if time.monotonic() > deadline:
                raise RuntimeError("gongkai serve did not answer /healthz within 120 s")
            time.sleep(0.2)
        yield base
    finally:
        stop(process)


def percentiles(values: Sequence[float]) -> dict[str, float | int | None]:
    """Median and 95th percentile (milliseconds, one decimal) of a sample."""
    if not values:
        return {"n": 0, "median_ms": None, "p95_ms": None}
    p95 = quantile(values, 0.95)
    return {"n": len(values), "median_ms": round(statistics.median(values), 1), "p95_ms": round(p95, 1)}


@dataclass
class Timings:
    """Server (Server-Timing header) and client (wall) milliseconds of repeated requests."""

    server: list[float] = field(default_factory=list)
    client: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)

    def add(self, answer: httpx.Response, started: float) -> None:
        self.client.append((time.perf_counter() - started) * 1000)
        found = SERVER_TIMING.search(answer.headers.get("server-timing", ""))
        if found:
            self.server.append(float(found.group(1)))
        self.statuses[answer.status_code] = self.statuses.get(answer.status_code, 0) + 1

    def summary(self) -> dict[str, Any]:
        return {
            "server": percentiles(self.server),
            "client": percentiles(self.client),
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
        }


def count(client: httpx.Client, status: str) -> int:
    answer = client.get("/api/documents", params={"status": status, "limit": 1})
    answer.raise_for_status()
    total: int = answer.json()["total"]
    return total


def upload_all(client: httpx.Client, uploads: Sequence[Upload], batch: int, timeout: float) -> dict[str, Any]:
    """POST every report in batches, then poll until each is done or failed; times from the first POST."""
    ids: list[int] = []
    duplicates = refused = 0
    started = time.perf_counter()
    for start in range(0, len(uploads), batch):
        files = [("files", (u.name, u.body)) for u in uploads[start : start + batch]]
        answer = client.post("/api/documents", files=files)
        if answer.status_code != 201:
            raise RuntimeError(f"upload answered {answer.status_code}: {answer.text[:300]}")
        body = answer.json()
        ids += [d["id"] for d in body["documents"]]
        duplicates += sum(1 for d in body["documents"] if d["duplicate"])
        refused += len(body["refused"])
    uploaded = time.perf_counter() - started
    done_at_upload = count(client, "done")
    done = failed = 0
    while True:
        done, failed = count(client, "done"), count(client, "failed")
        if done + failed >= len(ids):
            break
        if time.perf_counter() - started > timeout:
            raise RuntimeError(f"after {timeout:.0f} s only {done + failed} of {len(ids)} documents were read")
        time.sleep(POLL_SECONDS)
    read = time.perf_counter() - started
    n = len(uploads)
    return {
        "documents": n, "stored": len(ids), "duplicates": duplicates, "refused": refused,
        "batch": batch, "requests": -(-n // batch),
        "upload_seconds": round(uploaded, 2), "upload_docs_per_second": round(n / uploaded, 1),
        "done_when_upload_finished": done_at_upload,
        "all_read_seconds": round(read, 2), "end_to_end_docs_per_second": round(n / read, 1),
        "done": done, "failed": failed, "ids": ids,
    }  # fmt: skip


def pick_document(client: httpx.Client, uploads: Sequence[Upload], ids: Sequence[int], cells: int = 200) -> int:
    """A done document of the 2021 template with `cells` cells read (the typical report); with
    few uploads and none such, the done document with the most cells."""
    best: tuple[int, int] | None = None
    order = sorted(zip(uploads, ids, strict=False), key=lambda p: (p[0].template != "2021", -p[0].cells))
    for upload, document_id in order:
        answer = client.get(f"/api/documents/{document_id}").json()
        read = len((answer.get("result") or {}).get("cells", {})) if answer.get("status") == "done" else 0
        if upload.template == "2021" and read == cells:
            return document_id
        if read and (best is None or read > best[0]):
            best = (read, document_id)
        if len(uploads) > 50 and upload.cells < cells:
            break  # sorted: no later upload has as many cells
    if best is None:
        raise RuntimeError("no document was read")
    return best[1]


def login(base: str) -> httpx.Client:
    """A browser-like session: GET the login form, POST it with its CSRF token; the cookie stays."""
    session = httpx.Client(base_url=base, timeout=60, follow_redirects=False)
    form = session.get("/ui/login")
    form.raise_for_status()
    found = CSRF_FIELD.search(form.text)
    if not found:
        raise RuntimeError("no csrf_token field on /ui/login")
    token = found.group(1) or found.group(2)
    answer = session.post("/ui/login", data={"name": USER, "password": PASSWORD, "csrf_token": token})
    if answer.status_code != 303:
        raise RuntimeError(f"login answered {answer.status_code}")
    return session


def time_gets(client: httpx.Client, url: str, repeats: int, warmup: int = 3) -> tuple[Timings, httpx.Response]:
    timings = Timings()
    answer = client.get(url)
    for _ in range(warmup - 1):
        answer = client.get(url)
    for _ in range(repeats):
        started = time.perf_counter()
        answer = client.get(url)
        timings.add(answer, started)
    return timings, answer


def ui_page(base: str, document_id: int, repeats: int) -> dict[str, Any]:
    """The HTML page in a logged-in session, `repeats` times; whether it is built and draws every cell."""
    with contextlib.closing(login(base)) as session:
        page, last = time_gets(session, f"/ui/documents/{document_id}", repeats)
    built = last.status_code == 200 and "text/html" in last.headers.get("content-type", "")
    timings = page.summary() if built else {"server": None, "client": None, "statuses": page.summary()["statuses"]}
    cells = last.text.count('class="cell"') if built else 0
    return {**timings, "built": built, "bytes": len(last.content), "cells_on_page": cells}


def document_page(base: str, api: httpx.Client, document_id: int, repeats: int) -> dict[str, Any]:
    """The HTML page (session) and the JSON document (token), each `repeats` times."""
    page = ui_page(base, document_id, repeats)
    json_doc, doc = time_gets(api, f"/api/documents/{document_id}", repeats)
    result = doc.json()["result"]
    return {
        "document_id": document_id,
        "template": result["template"],
        "cells": len(result["cells"]),
        "ui_page": page,
        "api_document": json_doc.summary(),
    }


def review_writes(api: httpx.Client, document_id: int, keys: Sequence[str], accept: bool) -> dict[str, Any]:
    """One write per cell (a correction to its value plus one, or an accept), each at the version
    the previous answer gave: what the page sends on Enter."""
    version: int = api.get(f"/api/documents/{document_id}/flat").json()["version"]
    cells = api.get(f"/api/documents/{document_id}").json()["result"]["cells"]
    timings = Timings()
    broken = 0
    for key in keys:
        body: dict[str, Any] = {"key": key, "expected_version": version}
        if accept:
            body["accept"] = True
        else:
            body["value"] = (cells[key]["value"] or 0) + 1
        started = time.perf_counter()
        answer = api.post(f"/api/documents/{document_id}/corrections", json=body)
        timings.add(answer, started)
        if answer.status_code == 200:
            reply = answer.json()
            version = reply["version"]
            broken += bool(reply["sums"]["broken"])
    return {"document_id": document_id, "cells": len(keys), **timings.summary(), "answers_with_broken_sums": broken}


def measure(base: str, token: str, uploads: Sequence[Upload], args: argparse.Namespace) -> dict[str, Any]:
    """Uploads; then, on the same server once idle, the page, corrections, accepts, and the page again
    (its history now holds every write)."""
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, headers=headers, timeout=600) as api:
        result = upload_all(api, uploads, args.batch, args.timeout)
        ids = result.pop("ids")
        document_id = pick_document(api, uploads, ids)
        page = document_page(base, api, document_id, args.page_repeats)
        keys = sorted(api.get(f"/api/documents/{document_id}").json()["result"]["cells"])
        n = args.corrections
        correction = review_writes(api, document_id, keys[:n], accept=False)
        accept = review_writes(api, document_id, keys[n : 2 * n], accept=True)
        page["ui_page_after_writes"] = ui_page(base, document_id, args.page_repeats)
        return {"uploads": result, "document_page": page, "correction": correction, "accept": accept}


def base_env(database_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"GONGKAI_DATABASE_URL": database_url, "PYTHONPATH": str(ROOT)})
    env.pop("GONGKAI_LLM_BASE_URL", None)  # the rules reader: the figure is the service's, not a model's
    return env


def run_serve(uploads: Sequence[Upload], args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    env = base_env(f"sqlite:///{folder / 'serve.db'}")
    env.pop("GONGKAI_BROKER_URL", None)
    token = create_user(env)
    with served(env, "thread", folder / "serve.log") as base:
        figures = measure(base, token, uploads, args)
    how = "gongkai serve --workers thread (in-process reader thread), SQLite file"
    return {"how": how, **figures}


def run_celery(uploads: Sequence[Upload], args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    tag = uuid.uuid4().hex[:8]
    queue, prefix = f"gk-serve-bench-{tag}", f"gk-serve-bench-{tag}:"
    broker = os.environ.get("GONGKAI_BROKER_URL", DEFAULT_BROKER)
    # This process pings the workers through the same queue and key prefix (read when workers.app loads).
    os.environ.update(
        {"GONGKAI_BROKER_URL": broker, "GONGKAI_WORKER_QUEUE": queue, "GONGKAI_WORKER_KEY_PREFIX": prefix}
    )
    from workers.bench import clear_redis, pg_schema, start_worker, stop_workers, wait_ready, worker_env

    with pg_schema(args.pg, prefix="gk_serve_bench") as url:
        env = worker_env(url, queue, prefix)  # os.environ (with broker, queue, prefix) + this database
        env.pop("GONGKAI_LLM_BASE_URL", None)
        token = create_user(env)
        procs = []
        try:
            procs = [start_worker(env, 1, folder / f"worker-{i}.log") for i in range(args.workers)]
            wait_ready(procs, timeout=120)
            with served(env, "celery", folder / "serve-celery.log") as base:
                figures = measure(base, token, uploads, args)
        finally:
            stop_workers(procs)
            clear_redis(broker, prefix)
    how = (
        f"gongkai serve --workers celery, {args.workers} workers (`python -m workers.cli worker --concurrency=1`), "
        "Redis broker, PostgreSQL (fresh schema)"
    )
    return {"how": how, **figures}


def table(result: dict[str, Any]) -> None:
    """The figures as a Rich table on stderr (the JSON goes to the file)."""
    from rich.console import Console
    from rich.table import Table

    out = Table("figure", *result["modes"], title=f"gongkai serve benchmark ({result['documents']} documents)")

    def row(label: str, *path: str) -> None:
        cells = []
        for mode in result["modes"]:
            value: Any = result["modes"][mode]
            for part in path:
                value = value.get(part) if isinstance(value, dict) else None
            cells.append("—" if value is None else str(value))
        out.add_row(label, *cells)

    row("upload s", "uploads", "upload_seconds")
    row("upload docs/s", "uploads", "upload_docs_per_second")
    row("all read s", "uploads", "all_read_seconds")
    row("end-to-end docs/s", "uploads", "end_to_end_docs_per_second")
    row("done", "uploads", "done")
    row("failed", "uploads", "failed")
    row("page server ms median", "document_page", "ui_page", "server", "median_ms")
    row("page server ms p95", "document_page", "ui_page", "server", "p95_ms")
    row("page client ms median", "document_page", "ui_page", "client", "median_ms")
    row("page built (cells)", "document_page", "ui_page", "cells_on_page")
    row("API document server ms median", "document_page", "api_document", "server", "median_ms")
    row("API document client ms median", "document_page", "api_document", "client", "median_ms")
    row("correction server ms median", "correction", "server", "median_ms")
    row("correction server ms p95", "correction", "server", "p95_ms")
    row("correction client ms median", "correction", "client", "median_ms")
    row("correction client ms p95", "correction", "client", "p95_ms")
    row("accept server ms median", "accept", "server", "median_ms")
    row("accept client ms median", "accept", "client", "median_ms")
    row("page after the writes server ms median", "document_page", "ui_page_after_writes", "server", "median_ms")
    row("page after the writes server ms p95", "document_page", "ui_page_after_writes", "server", "p95_ms")
    Console(stderr=True).print(out)


def interrupt(signum: int, frame: object) -> None:
    """SIGTERM unwinds like Ctrl-C, so every `finally` stops the processes it started."""
    raise KeyboardInterrupt


def load_average() -> list[float]:
    with contextlib.suppress(OSError):
        return [round(x, 2) for x in os.getloadavg()]
    return []


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.serve_bench", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--docs", type=int, default=1000, help="reports to upload")
    parser.add_argument("--mode", choices=["serve", "celery", "both"], default="both")
    parser.add_argument("--batch", type=int, default=20, help="files per upload request")
    parser.add_argument("--workers", type=int, default=2, help="gongkai worker processes (celery mode)")
    parser.add_argument("--page-repeats", type=int, default=50)
    parser.add_argument("--corrections", type=int, default=100)
    parser.add_argument("--seed", type=int, default=11, help="seed of the synthetic reports")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds to wait for every document to be read")
    parser.add_argument("--pg", default=os.environ.get("GONGKAI_TEST_POSTGRES_URL", DEFAULT_PG))
    parser.add_argument("--out", type=Path, default=Path("out/serve-bench.json"))
    args = parser.parse_args(argv)

    signal.signal(signal.SIGTERM, interrupt)
    uploads = reports(args.docs, args.seed)
    modes = ["serve", "celery"] if args.mode == "both" else [args.mode]
    result: dict[str, Any] = {
        "documents": args.docs,
        "how": "What each side does " + (__doc__ or "").split("What each side does", 1)[-1].strip(),
        "cpus": os.cpu_count(),
        "load_average_before": load_average(),
        "modes": {},
    }
    with tempfile.TemporaryDirectory(prefix="gk-serve-bench-") as tmp:
        for mode in modes:
            folder = Path(tmp) / mode
            folder.mkdir()
            run = run_serve if mode == "serve" else run_celery
            result["modes"][mode] = run(uploads, args, folder)
    result["load_average_after"] = load_average()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    table(result)
    print(f"wrote {args.out}", file=sys.stderr)
    return 0 if all(m["uploads"]["failed"] == 0 for m in result["modes"].values()) else 1


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except KeyboardInterrupt:
        print("interrupted: every process started here was stopped", file=sys.stderr)
        raise SystemExit(130) from None
