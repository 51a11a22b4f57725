"""One engine path: a document read by `gongkai extract` and the same document read by a worker
(through `gongkai submit`, Redis and PostgreSQL) are stored with identical cells, flags, notes
and reader version, for every reader. The LLM is the scripted OpenAI-compatible server answering
from gold, so both sides get the same answers; the worker reads `llm` as a chord of section
tasks, `rules`, `both` and `auto` in one task.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from extractor.cli import app
from extractor.ingest import load_path
from extractor.storage import load_extraction, make_engine, session_factory
from tests.helpers import DEV_DATA, SHARED_REAL
from tests.test_llm_server import RunningServer
from tests.test_workers import celery_app, pg_url, queue, workers  # noqa: F401  (fixtures, found by name)
from workers.cli import submit

DOCS = ["seed-dongtonghua-2020.txt", "real-pingtan-2024.txt", "real-shanghai-kewei-2024.md"]

pytestmark = pytest.mark.skipif(
    not all((SHARED_REAL / name).exists() for name in DOCS), reason="shared benchmark not beside the checkout"
)


@pytest.fixture(scope="module")
def scripted() -> Any:
    running = RunningServer([DEV_DATA / "real", SHARED_REAL])
    yield running
    running.stop()


def _stored(url: str) -> dict[str, dict[str, Any]]:
    """Every stored run by document hash, as the detailed export minus what differs by design
    (usage: seconds, and cached answers that cost the second reader nothing)."""
    engine = make_engine(url)
    try:
        with session_factory(engine)() as session:
            rows = session.execute(
                sa.text("select d.sha256, r.id from runs r join documents d on d.id = r.document_id")
            ).all()
            out = {}
            for sha256, run_id in rows:
                detail = load_extraction(session, run_id, apply_corrections=False).detailed()
                detail.pop("usage", None)
                out[sha256] = detail
            return out
    finally:
        engine.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize("reader", ["rules", "llm", "both", "auto"])
def test_extract_and_worker_store_the_same_run(
    reader: str, scripted: Any, workers: Any, pg_url: str, queue: str, tmp_path: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    folder = tmp_path / "in"
    folder.mkdir()
    files = [Path(shutil.copy(SHARED_REAL / name, folder / name)) for name in DOCS]
    monkeypatch.setenv("GONGKAI_LLM_BASE_URL", scripted.url + "/v1")
    monkeypatch.setenv("GONGKAI_LLM_MODEL", "scripted")
    monkeypatch.setenv("GONGKAI_LLM_MODE", "TOOLS")
    monkeypatch.setenv("GONGKAI_LLM_CACHE_DIR", str(tmp_path / "cache"))
    scripted.configure()

    cli_db = f"sqlite:///{tmp_path / 'cli.db'}"
    result = CliRunner().invoke(
        app, ["extract", *map(str, files), "--reader", reader, "--db", cli_db, "--out", str(tmp_path / "out")]
    )
    assert result.exit_code == 0, result.output

    workers(1)  # started after the LLM settings are in the environment it inherits
    submission = submit(files, pg_url, reader=reader, queue=queue, wait=True, timeout=120, progress=False)
    assert submission.pending == [] and submission.failed == 0

    by_cli, by_worker = _stored(cli_db), _stored(pg_url)
    assert set(by_cli) == set(by_worker) == {load_path(path).sha256 for path in files}
    for sha256, cli_run in by_cli.items():
        worker_run = by_worker[sha256]
        assert worker_run["reader"] == cli_run["reader"] == reader
        assert worker_run["reader_version"] == cli_run["reader_version"]
        assert worker_run["cells"] == cli_run["cells"], cli_run["doc"]
        assert worker_run["flags"] == cli_run["flags"], cli_run["doc"]
        assert worker_run["notes"] == cli_run["notes"], cli_run["doc"]
    if reader != "rules":
        assert any(cell["source"] != "rules" for run in by_worker.values() for cell in run["cells"].values())
