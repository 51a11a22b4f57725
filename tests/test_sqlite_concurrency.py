"""Two `gongkai extract` batches writing one SQLite file at the same moment.

SQLite has one writer at a time. Before WAL, a busy timeout and BEGIN IMMEDIATE, the second batch
stopped with `database is locked` and stored nothing; now each waits its turn for the lock (a
transaction per document is milliseconds), so both finish and every document is stored.
Real processes, a real file, the console script as a user runs it: nothing is mocked.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from extractor.storage.database import DEFAULT_URL, make_engine, retry_locked, upgrade
from tests.helpers import SHARED_REAL

SEED = SHARED_REAL / "seed-dongtonghua-2020.txt"
GONGKAI = Path(sys.executable).with_name("gongkai")
BATCH = 200

needs_seed = pytest.mark.skipif(not SEED.exists(), reason="shared benchmark not beside the checkout")


def distinct_copies(folder: Path, count: int, tag: str) -> list[Path]:
    """`count` copies of the seed, each with one unique line appended (so every hash differs)."""
    folder.mkdir(parents=True)
    text = SEED.read_text(encoding="utf-8").rstrip()
    paths = []
    for i in range(count):
        path = folder / f"seed-{tag}-{i:04d}.txt"
        path.write_text(f"{text}\n\n（副本 {tag}-{i:04d}）\n", encoding="utf-8")
        paths.append(path)
    return paths


def _env() -> dict[str, str]:
    env = {**os.environ, "COLUMNS": "200"}
    env.pop("GONGKAI_DATABASE_URL", None)  # the --db option is the only database
    return env


def _extract(paths: list[Path], out: Path, url: str, cwd: Path) -> subprocess.Popen[bytes]:
    """`gongkai extract FILES --out DIR --db URL`, as a user types it."""
    args = [str(GONGKAI), "extract", *map(str, paths), "--out", str(out), "--db", url]
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env(), cwd=cwd)


@needs_seed
def test_two_extract_batches_share_one_sqlite_file(tmp_path: Path) -> None:
    """Both batches exit 0 and all 400 documents and runs are stored (the file starts empty, so
    both also race to migrate it)."""
    db = tmp_path / "shared.db"
    url = f"sqlite:///{db}"
    batches = [distinct_copies(tmp_path / f"in-{tag}", BATCH, tag) for tag in ("a", "b")]
    started = time.monotonic()
    procs = [_extract(paths, tmp_path / f"out-{i}", url, tmp_path) for i, paths in enumerate(batches)]
    results = [proc.communicate(timeout=600) for proc in procs]
    seconds = time.monotonic() - started
    for proc, (_, err) in zip(procs, results, strict=True):
        tail = err.decode(errors="replace")[-2000:]
        assert proc.returncode == 0, tail
        assert "locked" not in tail and "Traceback" not in tail, tail
        assert f"{BATCH} of {BATCH} files read" in tail, tail

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            documents = conn.execute(sa.text("select count(*) from documents")).scalar_one()
            runs = conn.execute(sa.text("select count(*), count(distinct document_id) from runs")).one()
            journal = conn.execute(sa.text("pragma journal_mode")).scalar_one()
    finally:
        engine.dispose()
    assert documents == 2 * BATCH
    assert tuple(runs) == (2 * BATCH, 2 * BATCH)
    assert journal == "wal"
    assert all(len(list((tmp_path / f"out-{i}").glob("*.detail.json"))) == BATCH for i in range(2))
    print(f"two batches of {BATCH}: {documents} documents, {runs[0]} runs stored in {seconds:.1f} s")


def test_connections_wait_for_the_writer_instead_of_failing(tmp_path: Path) -> None:
    """A writer holds the lock for a second; another connection's write waits and then succeeds."""
    import threading

    url = f"sqlite:///{tmp_path / 'lock.db'}"
    upgrade(url)
    engine = make_engine(url)
    other = make_engine(url)
    held = threading.Event()
    statement = sa.text(
        "insert into documents (sha256, name, kind, encoding, size, text) values (:s, 'x', 'txt', 'utf-8', 1, 'x')"
    )

    def hold() -> None:
        with engine.begin() as conn:
            conn.execute(statement, {"s": "a" * 64})
            held.set()
            time.sleep(1.0)

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert held.wait(10)
        began = time.monotonic()

        def write() -> None:
            with other.begin() as conn:
                conn.execute(statement, {"s": "b" * 64})

        retry_locked(write)
        waited = time.monotonic() - began
    finally:
        thread.join()
    with other.connect() as conn:
        assert conn.execute(sa.text("select count(*) from documents")).scalar_one() == 2
    engine.dispose()
    other.dispose()
    assert waited >= 0.5, "the second writer did not wait for the first"


def test_reading_needs_no_write_lock(tmp_path: Path) -> None:
    """A read-only unit of work may take a deferred BEGIN (WAL: it never waits for a writer)."""
    url = f"sqlite:///{tmp_path / 'read.db'}"
    upgrade(url)
    engine = make_engine(url)
    try:
        with engine.begin() as writer:
            writer.execute(sa.text("select 1"))
            with engine.connect().execution_options(sqlite_begin="DEFERRED") as reader:
                assert reader.execute(sa.text("select count(*) from documents")).scalar_one() == 0
                reader.rollback()
    finally:
        engine.dispose()


def test_default_url_is_sqlite() -> None:
    assert DEFAULT_URL.startswith("sqlite:///")
