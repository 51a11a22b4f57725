"""The LLM reader end to end through the scripted OpenAI-compatible server (real HTTP).

These check the path and the safety net (grounding, sums, the second reader), not any model.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from evals import token_compare
from evals.gold import GoldCase
from evals.llm_safety import clean_cells, judge
from evals.llm_server.failures import FailureConfig
from extractor.ingest import load_path
from extractor.pipeline import extract
from extractor.readers.llm import LLMSettings
from tests.helpers import DEV_DATA, SHARED_REAL
from tests.test_llm_server import RunningServer

DOCS = [DEV_DATA / "real" / "real-pingtan-2021.txt", DEV_DATA / "real" / "real-pingtan-zrz-2019.txt"]


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    running = RunningServer([DEV_DATA / "real"] + ([SHARED_REAL] if SHARED_REAL.exists() else []))
    yield running
    running.stop()


def _settings(server: RunningServer, cache: Path | None = None, mode: str = "TOOLS") -> LLMSettings:
    return LLMSettings(
        base_url=f"{server.url}/v1", model="scripted", mode=mode, cache_dir=cache, timeout=5, transport_retries=1
    )


def _gold(path: Path) -> dict[str, float]:
    return dict(json.loads(path.with_suffix(".gold.json").read_text(encoding="utf-8"))["fields"])


@pytest.mark.parametrize("reader", ["llm", "both", "auto"])
def test_readers_match_gold_with_an_honest_server(server: RunningServer, reader: str) -> None:
    server.configure()
    for path in DOCS:
        result = extract(load_path(path), reader=reader, llm=_settings(server))  # type: ignore[arg-type]
        flat, gold = result.flat(), _gold(path)
        silent = [k for k, v in gold.items() if flat["fields"].get(k) != v and k not in flat["flags"]]
        assert silent == []
        assert result.reader == reader
        if reader != "auto":
            assert result.usage["tokens_in"] > 0 and result.usage["calls"] > 0
        assert any(v.source != "rules" for v in result.fields.values()) or reader == "auto"


@pytest.mark.parametrize("mode", ["shift_column", "merge_numbers", "split_number", "duplicate_row", "plausible_number"])
def test_every_injected_wrong_value_is_corrected_or_flagged(server: RunningServer, mode: str) -> None:
    server.configure(FailureConfig(rates={mode: 1.0}))
    outputs = {}
    for path in DOCS:
        outputs[path.stem] = extract(load_path(path), reader="llm", llm=_settings(server)).flat()
    injected = server.get("/_injected")["injections"]
    result = judge(injected, outputs)
    assert result.injected > 0
    assert result.escaped == []


def test_broken_answers_and_http_errors_lose_cells_loudly(server: RunningServer) -> None:
    server.configure(FailureConfig(rates={"broken_json": 0.5, "http_500": 0.25, "refusal": 0.25}))
    result = extract(load_path(DOCS[0]), reader="llm", llm=_settings(server))
    gold = _gold(DOCS[0])
    flat = result.flat()
    assert [k for k, v in gold.items() if flat["fields"].get(k) != v and k not in flat["flags"]] == []
    assert result.usage["attempts"] >= result.usage["calls"]  # retries counted


def test_both_never_worse_than_rules(server: RunningServer) -> None:
    server.configure(FailureConfig(failure_rate=0.3))
    for path in DOCS:
        gold = _gold(path)
        rules = extract(load_path(path)).flat()
        both = extract(load_path(path), reader="both", llm=_settings(server)).flat()
        right = {name: sum(1 for k, v in gold.items() if flat["fields"].get(k) == v) for name, flat in
                 (("rules", rules), ("both", both))}  # fmt: skip
        silent = {name: sum(1 for k, v in gold.items() if flat["fields"].get(k) != v and k not in flat["flags"])
                  for name, flat in (("rules", rules), ("both", both))}  # fmt: skip
        assert right["both"] >= right["rules"]
        assert silent["both"] <= silent["rules"]


def test_cache_makes_a_rerun_free(server: RunningServer, tmp_path: Path) -> None:
    server.configure()
    settings = _settings(server, cache=tmp_path / "cache")
    first = extract(load_path(DOCS[0]), reader="llm", llm=settings)
    second = extract(load_path(DOCS[0]), reader="llm", llm=settings)
    assert first.usage["tokens_in"] > 0
    assert second.usage["tokens_in"] == 0 and second.usage["cached"] == first.usage["calls"]
    assert first.flat()["fields"] == second.flat()["fields"]


def test_token_budget_stops_a_runaway(server: RunningServer) -> None:
    server.configure()
    settings = _settings(server)
    settings.token_budget = 1
    result = extract(load_path(DOCS[0]), reader="llm", llm=settings)
    assert result.usage["calls"] == 1 or result.usage["calls"] <= settings.concurrency
    assert any("budget" in note for note in result.notes)


def test_a_document_without_output_is_caught_only_when_the_user_sees_an_error() -> None:
    injections = [{"doc": "gone", "mode": "shift_column", "keys": ["t3.a.b"],
                   "changes": [{"key": "t3.a.b", "sent": 5, "gold": 4}]}]  # fmt: skip
    assert len(judge(injections, {}).escaped) == 1  # no output, no error: nothing was caught
    assert judge(injections, {}, {"gone": "cannot tell the text encoding"}).flagged == 1


def test_clean_cells_leave_out_every_cell_an_injection_touched() -> None:
    case = GoldCase("doc", DOCS[0], {"fields": {"t3.a.b": 1, "t3.a.c": 2, "t3.a.d": 3, "t3.a.e": 4}})
    outputs = {"doc": {"fields": {"t3.a.b": 9, "t3.a.c": 2, "t3.a.d": 3, "t3.a.e": 5},
                       "flags": {"t3.a.b": ["x"], "t3.a.d": ["y"]}}}  # fmt: skip
    injections = [{"doc": "doc", "mode": "broken_json", "keys": ["t3.a.b"], "changes": []}]
    clean = clean_cells([case], injections, outputs)
    assert (clean.cells, clean.correct, clean.false_flags, clean.silent_errors) == (3, 2, 1, 1)
    assert clean.silent == [{"doc": "doc", "key": "t3.a.e", "value": 5, "gold": 4}]


def test_token_compare_counts_four_sides_alike(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Two reports, no server: the recount of the block reader equals what the reader metered
    (checked inside), and every side has figures."""
    for path in DOCS:
        for suffix in (".txt", ".gold.json"):
            shutil.copy(path.with_suffix(suffix), tmp_path / (path.stem + suffix))
    assert token_compare.main(["--gold", str(tmp_path), "--json"]) == 0
    out = capsys.readouterr().out
    report = json.loads(out[out.index("{") :])
    sides = report["sides"]
    assert set(sides) == {"block reader", "whole report, compact", "whole report, verbose", "auto"}
    rule = "scripted rule"
    assert sides["whole report, compact"]["calls_per_report"] == 1.0
    assert (
        sides["whole report, verbose"][rule]["total_per_report"]
        > sides["whole report, compact"][rule]["total_per_report"]
    )
    assert sides["block reader"]["calls_per_report"] > 1
