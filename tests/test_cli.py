"""The `gongkai` command from the outside: flat output, batches with bad files, --out, eval, storage."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from extractor.cli import app
from extractor.storage import repository
from schemas import DISCLOSURE_REPORT
from tests.helpers import SHARED_REAL

runner = CliRunner()
SEED = SHARED_REAL / "seed-dongtonghua-2020.txt"
needs_shared = pytest.mark.skipif(not SHARED_REAL.exists(), reason="shared benchmark not beside the checkout")


@needs_shared
def test_extract_flat_prints_the_fields_md_object(tmp_path: Path) -> None:
    result = runner.invoke(app, ["extract", str(SEED), "--format", "flat", "--db", f"sqlite:///{tmp_path}/g.db"])
    assert result.exit_code == 0, result.output
    flat = json.loads(result.stdout)
    gold = json.loads((SHARED_REAL / "seed-dongtonghua-2020.gold.json").read_text(encoding="utf-8"))
    assert flat["fields"] == gold["fields"] and flat["flags"] == {} and flat["template"] == "2019"


@needs_shared
def test_batch_goes_on_past_bad_files_and_exits_non_zero(tmp_path: Path) -> None:
    corrupt = tmp_path / "corrupt.txt"
    corrupt.write_bytes(b"\x00\xff\x00garbage" * 50)
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    other = tmp_path / "weather.txt"
    other.write_text("明天多云转晴，气温十五度。", encoding="utf-8")
    out = tmp_path / "out"
    result = runner.invoke(
        app, ["extract", str(corrupt), str(SEED), str(empty), str(other), "--out", str(out), "--no-store"]
    )
    assert result.exit_code == 1
    assert "corrupt.txt" in result.stderr and "empty" in result.stderr and "weather.txt" in result.stderr
    written = json.loads((out / "seed-dongtonghua-2020.json").read_text(encoding="utf-8"))
    assert written["template"] == "2019"
    assert not (out / "corrupt.json").exists()


def test_extract_with_no_file_reads_the_bundled_sample(tmp_path: Path) -> None:
    db = tmp_path / "g.db"
    result = runner.invoke(app, ["extract", "--db", f"sqlite:///{db}"])
    assert result.exit_code == 0, result.output
    assert "t3" in result.stdout and "flagged" in result.stdout
    assert db.exists()


@needs_shared
def test_eval_scores_a_gold_folder(tmp_path: Path) -> None:
    folder = tmp_path / "gold"
    folder.mkdir()
    for name in ("seed-dongtonghua-2020.txt", "seed-dongtonghua-2020.gold.json"):
        (folder / name).write_bytes((SHARED_REAL / name).read_bytes())
    result = runner.invoke(app, ["eval", str(folder), "--report", str(tmp_path / "report")])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout[result.stdout.index("{") :])
    assert summary["accuracy"] == 1.0 and summary["silent_errors"] == 0 and summary["invented"] == 0
    assert (tmp_path / "report" / "report.html").exists()
    assert (tmp_path / "report" / "errors_by_section.png").stat().st_size > 1000


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@needs_shared
@pytest.mark.parametrize("kind", ["postgresql", "sqlite"])
def test_an_unreachable_database_is_one_line_naming_the_setting(kind: str, tmp_path: Path) -> None:
    url = (
        f"postgresql+psycopg://postgres@127.0.0.1:{_free_port()}/test"
        if kind == "postgresql"
        else f"sqlite:///{tmp_path}/no/such/folder/g.db"
    )
    result = runner.invoke(app, ["extract", str(SEED), "--db", url])
    assert result.exit_code == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in result.output
    assert "(set by --db)" in lines[0] and "cannot reach the database" in lines[0]


@needs_shared
def test_the_service_stores_a_run_and_rechecks_the_sums_after_a_correction(tmp_path: Path) -> None:
    from extractor.service import Service

    with Service(f"sqlite:///{tmp_path}/g.db") as service:
        doc = service.ingest(SEED)
        extraction, run_id = service.extract_and_store(doc)
        assert service.store_document(doc) == service.store_document(doc)  # one document per content
        total = extraction.fields["t3.total.total"].value
        assert isinstance(total, int)
        broken = service.correct(run_id, "t3.total.total", total + 1, reviewer="ann")
        rules = {rule.name: rule for rule in DISCLOSURE_REPORT.template("2019").constraints}
        assert broken.broken and all("t3.total.total" in rules[check.rule].cells for check in broken.broken)
        mended = service.correct(run_id, "t3.total.total", total, reviewer="ann")
        assert not mended.broken and len(mended.holding) > len(broken.holding)
        assert service.load_run(run_id).fields["t3.total.total"].source == "review"
        assert service.load_run(run_id, apply_corrections=False).fields["t3.total.total"].value == total
        assert [run.run_id for run in service.list_runs()] == [run_id]
        with service.session() as session:  # a reviewer who saw version 0 must now get a conflict
            assert repository.get_review(session, service.store_document(doc)).version == 2
        with pytest.raises(KeyError):
            service.correct(run_id, "t9.nothing.here", 1, reviewer="ann")


@needs_shared
def test_an_unreachable_llm_stops_the_batch_with_one_line(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{_free_port()}/v1"
    args = ["extract", str(SEED), str(SEED), "--reader", "both", "--llm-base-url", url, "--llm-model", "m"]
    result = runner.invoke(app, [*args, "--no-store"])
    assert result.exit_code == 2
    lines = [line for line in result.stderr.splitlines() if line.strip() and not line.startswith("extracting")]
    assert lines == [lines[0]] and "GONGKAI_LLM_BASE_URL" in lines[0] and "Traceback" not in result.output


def test_serve_goes_to_the_celery_workers_when_a_broker_is_set_and_says_when_it_is_unreachable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--workers auto` (the default) means Celery once GONGKAI_BROKER_URL is set: a dead broker is one line."""
    monkeypatch.setenv("GONGKAI_BROKER_URL", "redis://127.0.0.1:1/0")
    result = runner.invoke(app, ["serve", "--db", f"sqlite:///{tmp_path}/s.db", "--port", "1"])
    assert result.exit_code == 2
    assert "cannot reach the broker at redis://127.0.0.1:1/0" in result.output
    assert "GONGKAI_BROKER_URL" in result.output
