"""The service benchmarks run end to end on a handful of documents and report every figure.

No timing is asserted (a shared machine makes that flaky); the figures' presence and the counts
that do not depend on speed are.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from evals.gold import GoldCase, load_cases
from evals.review_load import load_of, summarize, typed
from evals.review_load import main as review_load_main
from evals.synth import generate, write
from extractor.model import Extraction, FieldValue
from schemas import DISCLOSURE_REPORT

ROOT = Path(__file__).resolve().parents[1]
PG_URL = os.environ.get("GONGKAI_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _bench(tmp_path: Path, mode: str) -> dict[str, Any]:
    out = tmp_path / "bench.json"
    command = [sys.executable, "-m", "evals.serve_bench", "--docs", "4", "--mode", mode, "--batch", "3",
               "--page-repeats", "2", "--corrections", "3", "--out", str(out)]  # fmt: skip
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return result


def _check(figures: dict[str, Any]) -> None:
    uploads = figures["uploads"]
    assert uploads["stored"] == 4 and uploads["duplicates"] == 0 and uploads["requests"] == 2
    assert uploads["done"] + uploads["failed"] == 4 and uploads["failed"] == 0
    for key in ("upload_seconds", "upload_docs_per_second", "all_read_seconds", "end_to_end_docs_per_second"):
        assert uploads[key] > 0, key
    page = figures["document_page"]
    assert page["cells"] > 100 and page["template"] in ("2019", "2021")
    assert page["api_document"]["statuses"] == {"200": 2} and page["api_document"]["server"]["n"] == 2
    ui = page["ui_page"]
    if ui["built"]:  # the page is another part of the issue; once there, every cell is drawn
        assert ui["statuses"] == {"200": 2} and ui["cells_on_page"] >= page["cells"]
        assert ui["server"]["median_ms"] is not None
    for action in ("correction", "accept"):
        figures_of = figures[action]
        assert figures_of["statuses"] == {"200": 3} and figures_of["cells"] == 3, action
        assert figures_of["server"]["n"] == 3 and figures_of["client"]["median_ms"] >= figures_of["server"]["median_ms"]
    after = page["ui_page_after_writes"]
    assert after["built"] == ui["built"]
    if after["built"]:
        assert after["statuses"] == {"200": 2}


def test_serve_bench_runs_against_a_real_gongkai_serve(tmp_path: Path) -> None:
    result = _bench(tmp_path, "serve")
    assert result["documents"] == 4 and list(result["modes"]) == ["serve"]
    _check(result["modes"]["serve"])


def _services_or_skip() -> None:
    from tests.services import require_service

    engine = sa.create_engine(PG_URL)
    try:
        with engine.connect():
            pass
    except sa.exc.OperationalError as exc:
        require_service(f"PostgreSQL not reachable at {PG_URL}: {exc}")
    finally:
        engine.dispose()
    from workers.app import BrokerUnavailable, check_broker

    try:
        check_broker(os.environ.get("GONGKAI_BROKER_URL", "redis://127.0.0.1:6379/0"), timeout=3)
    except BrokerUnavailable as exc:
        require_service(f"Redis not reachable: {exc}")


@pytest.mark.postgres
def test_serve_bench_runs_with_celery_workers(tmp_path: Path) -> None:
    _services_or_skip()
    result = _bench(tmp_path, "celery")
    _check(result["modes"]["celery"])
    assert "celery" in result["modes"]["celery"]["how"]


# --- review load ---------------------------------------------------------------------------------

KEYS = DISCLOSURE_REPORT.template("2021").used_keys()  # the mandated form


def _case(gold: dict[str, float]) -> GoldCase:
    return GoldCase("doc", Path("/nowhere/set/doc.txt"), {"template": "2021", "fields": gold})


def _reader(cells: list[FieldValue]) -> Any:
    def read(case: GoldCase) -> Extraction:
        return Extraction("doc", "2021", 2023, "x", fields={c.key: c for c in cells})

    return read


def test_review_load_counts_cells_and_keystrokes_with_the_page_model() -> None:
    a, b, c, d, e, f = KEYS[:6]
    gold = {key: 5.0 for key in KEYS if key != e}  # e: the document does not show it
    cells = [FieldValue(key, 5, status="read") for key in KEYS if key not in (a, b, c, d, e, f)] + [
        FieldValue(a, 5, status="read", confidence=0.5, reasons=["doubt"]),  # flagged, right: Enter
        FieldValue(b, 7, status="read", confidence=0.5, reasons=["doubt"]),  # flagged, wrong: "5" + Enter
        FieldValue(c, None, status="missing", confidence=0.0, reasons=["not found"]),  # wrong: "5" + Enter
        FieldValue(d, 9, status="read"),  # not flagged and wrong: silent
        FieldValue(e, None, status="missing", confidence=0.0, reasons=["not found"]),  # absent: Enter
    ]  # f: not returned at all, so missing and flagged; gold 5 -> 2 keys
    load = load_of(_case(gold), _reader(cells))
    assert load.cells == 200 and load.gold_cells == 199 and load.template_ok
    assert (load.look_at, load.right, load.absent, load.wrong, load.corrections, load.clears) == (5, 2, 1, 3, 3, 0)
    assert load.silent == 1 and load.silent_keys == [d]
    assert load.keystrokes == 1 + 2 + 2 + 1 + 2


def test_review_load_clears_a_value_the_document_does_not_show_and_types_gold_as_written() -> None:
    a, b = KEYS[:2]
    cells = [FieldValue(a, 3, status="read", confidence=0.5, reasons=["doubt"]),
             FieldValue(b, 1, status="read", confidence=0.5, reasons=["doubt"])]  # fmt: skip
    load = load_of(_case({b: 1234.5}), _reader(cells))
    assert load.clears == 1 and load.corrections == 1
    assert load.keystrokes == 2 + len("1234.5") + 1 + (len(KEYS) - 2)  # the rest: absent, accepted
    assert typed(12.0) == "12" and typed(-3.25) == "-3.25"


def test_review_load_summary_and_command_on_generated_reports(tmp_path: Path) -> None:
    write(generate(5, 6), tmp_path / "synth", 5, 6)
    out = tmp_path / "load.json"
    assert review_load_main([str(tmp_path / "synth"), "--out", str(out)]) == 0
    result = json.loads(out.read_text(encoding="utf-8"))
    assert len(result["reports"]) == 6 == result["all"]["reports"]
    for figure in ("cells", "look_at", "right", "wrong", "silent", "keystrokes"):
        stats = result["all"][figure]
        assert stats["median"] <= stats["p90"] and stats["total"] == sum(r[figure] for r in result["reports"])
    assert result["all"]["typical_report"]["doc"] in {r["doc"] for r in result["reports"]}
    assert {"template 2019", "template 2021", "synth"} <= set(result["groups"])
    assert summarize([])["reports"] == 0
    assert len(load_cases(tmp_path / "synth")) == 6
