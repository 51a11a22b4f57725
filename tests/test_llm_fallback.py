"""The LLM as the fallback for tables the rules reader cannot place (`auto`), through the scripted server.

The synthetic report (tests/fallback_docs.py) prints tables 2 and 3 in layouts the locator does not
take for tables (table 2 without its header rows, table 3 on one line with a sentence, cut after its
first row), and a paragraph with numbers. `auto` must send the text around them, take back only
values printed where their row and column put them, trust only what a sum confirms, and never
let a bad answer (swapped columns, invented rows, a plausible number) become an unflagged value.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from evals.fallback_measure import DocumentResult, classify, measure_document, real_excerpts, summary
from evals.gold import load_cases
from evals.llm_safety import judge
from evals.llm_server.failures import FailureConfig, Mode
from extractor.ingest import load_path
from extractor.model import Extraction
from extractor.pipeline import Readings, extract, fallback_windows, plan, read_rules, sections_for_llm
from extractor.readers.llm import LLMSettings
from extractor.readers.llm.windows import OMITTED, blank_narrative, fallback_window, gaps, narrative
from schemas import DISCLOSURE_REPORT
from tests import fallback_docs
from tests.helpers import SHARED_REAL
from tests.test_llm_server import RunningServer

NAME = "fallback-cut"


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("fallback")
    fallback_docs.write(path, NAME, cut=1)
    return path


@pytest.fixture(scope="module")
def server(folder: Path) -> Iterator[RunningServer]:
    running = RunningServer([folder])
    yield running
    running.stop()


def _settings(server: RunningServer) -> LLMSettings:
    return LLMSettings(
        base_url=f"{server.url}/v1", model="scripted", mode="TOOLS", cache_dir=None, timeout=5, transport_retries=1
    )


def _auto(server: RunningServer, folder: Path) -> Extraction:
    server.post("/_focus", {"doc": NAME})
    return extract(load_path(folder / f"{NAME}.txt"), reader="auto", llm=_settings(server))


def _silent(result: Extraction, gold: dict[str, float]) -> list[str]:
    """Cells with a wrong or invented value and no flag."""
    flat = result.flat()
    keys = set(gold) | {k for k, v in flat["fields"].items() if v is not None}
    return sorted(k for k in keys if flat["fields"].get(k) != gold.get(k) and k not in flat["flags"])


# --- the window and its prose -------------------------------------------------------------------


def test_sentences_are_narrative_rows_and_headings_are_not() -> None:
    assert narrative("2025年,本单位全年处理申请数量423件,主动公开政府信息1280条。")
    assert narrative("· 行政处罚、行政强制:本年度无相关处理决定;")
    assert not narrative("(二)部分公开(区分处理的,只计这一情形,不计其他情形) 2 0 0 0 0 1 3")
    assert not narrative("二,主动公开政府信息情况")
    assert not narrative("(本列数据的勾稽关系为:第一项加第二项之和,等于第三项加第四项之和)")
    # a long line that holds a table next to its prose keeps its run of cells
    assert not narrative("一,本年新收政府信息公开申请数量 10 2 0 0 0 1 13 二,上年结转政府信息公开申请数量 1 0 0")


def test_blanking_keeps_offsets_and_drops_counts_in_prose() -> None:
    text = "一、总体情况\n全年处理申请数量423件,主动公开政府信息1280条,工作质效显著提升。\n行政许可\n2981\n共计15件\n"
    blanked = blank_narrative(text, (0, len(text)))
    assert len(blanked.text) == len(text)
    assert "423" not in blanked.text and "1280" not in blanked.text and "15" not in blanked.text
    assert blanked.text.index("2981") == text.index("2981")
    shown = blanked.shown(0, len(text))
    assert OMITTED in shown and "行政许可\n2981" in shown and "423" not in shown


def test_the_window_runs_between_the_tables_read() -> None:
    order = ["t2", "t3", "t4"]
    found = gaps(order, ["t3"], {"t2": (100, 400), "t4": (900, 1200)}, 2000)
    assert found == {"t3": ((400, 900), True)}
    # a table read out of order (before the start) does not bound it; nothing read before: from 0
    assert gaps(order, ["t3"], {"t2": (500, 700), "t4": (300, 350)}, 2000) == {"t3": ((700, 2000), True)}
    assert gaps(order, ["t2"], {"t3": (600, 900)}, 2000) == {"t2": ((0, 600), False)}
    section = DISCLOSURE_REPORT.template("2021").section("t3")
    text = "x" * 9000 + "收到和处理政府信息公开申请情况" + "y" * 9000
    assert fallback_window(section, text, (0, len(text)), 6000) == (9000, 15000)  # from its heading
    assert fallback_window(section, "a" * 100, (40, 40)) is None
    assert fallback_window(section, "z" * 8000, (0, 8000), 6000, bounded_before=False) == (2000, 8000)


def test_unplaced_tables_get_a_window(folder: Path) -> None:
    doc = load_path(folder / f"{NAME}.txt")
    readings = Readings(plan(doc))
    readings.rules = read_rules(doc, readings.plan)
    assert readings.plan.regions["t2"] is None and readings.plan.regions["t3"] is None
    windows = fallback_windows("auto", readings, doc.normalized)
    assert set(windows) >= {"t2", "t3"}
    assert sections_for_llm("auto", readings)[:2] == ["t2", "t3"]
    assert fallback_windows("both", readings, doc.normalized) == {}  # only `auto` falls back


# --- through the scripted server -----------------------------------------------------------------


def test_rules_alone_cannot_place_the_tables(folder: Path, tmp_path: Path) -> None:
    result = extract(load_path(folder / f"{NAME}.txt"))
    assert all(v.value is None for k, v in result.fields.items() if k.startswith(("t2.", "t3.")))
    # the case is the cut: printed whole, table 3 is placed by its first row and the confirming second
    whole = extract(load_path(fallback_docs.write(tmp_path, "whole")))
    assert whole.fields["t3.total.total"].value == 13 and whole.fields["t2.rules.in_force"].value is None


def test_auto_reads_an_unplaced_table_and_trusts_only_what_a_sum_confirms(server: RunningServer, folder: Path) -> None:
    server.configure()
    result = _auto(server, folder)
    _, gold = fallback_docs.build(cut=1)
    flat = result.flat()
    assert result.usage["sections"][:2] == ["t2", "t3"]
    assert any("t2: not placed by the rules reader" in note for note in result.notes)
    assert {k: flat["fields"].get(k) for k in gold} == gold  # every printed cell read right
    assert _silent(result, gold) == []
    # table 2 has no sums: its values are the LLM's alone and stay flagged for review
    assert all(k in flat["flags"] for k in gold if k.startswith("t2."))
    # table 3's first row: printed in full, its total confirms it
    assert not any(k in flat["flags"] for k in gold if k.startswith("t3.new_received."))
    # nothing from the narrative paragraph, nothing where the document prints no cell
    values = [v for v in flat["fields"].values() if v is not None]
    assert not set(fallback_docs.PROSE_NUMBERS) & set(values)
    assert [k for k, v in flat["fields"].items() if v is not None and k not in gold and k not in flat["flags"]] == []


@pytest.mark.parametrize("mode", ["swap_columns", "invent_row", "plausible_number", "shift_column", "duplicate_row"])
def test_bad_answers_never_become_unflagged_values(server: RunningServer, folder: Path, mode: Mode) -> None:
    server.configure(FailureConfig.only(mode))
    result = _auto(server, folder)
    injected = server.get("/_injected")["injections"]
    _, gold = fallback_docs.build(cut=1)
    assert any(i["changes"] for i in injected), f"{mode} was never applied"
    assert judge(injected, {NAME: result.flat()}).escaped == []
    assert _silent(result, gold) == []


def test_the_measure_counts_every_printed_cell_as_rescued(server: RunningServer, folder: Path) -> None:
    """evals.fallback_measure on the synthetic report: every cell of gold is missing under rules and
    right under `auto` (an honest model), and nothing is lost, invented or silently wrong."""
    server.configure()
    server.post("/_focus", {"doc": NAME})
    (case,) = load_cases(folder)
    result = measure_document(case, _settings(server))
    _, gold = fallback_docs.build(cut=1)
    assert sorted(result.rescued) == sorted(gold)
    assert result.new_silent == [] and result.lost == [] and result.llm_invented == []
    assert result.sent[:2] == ["t2", "t3"] and result.fallback[:2] == ["t2", "t3"]


# --- on the shared real excerpts -----------------------------------------------------------------


@pytest.mark.skipif(not SHARED_REAL.exists(), reason="shared benchmark not beside the checkout")
def test_on_the_real_excerpts_auto_rescues_cells_and_adds_no_silent_error() -> None:
    """With an honest model (the scripted server answering from gold), on the cut-off real excerpts."""
    running = RunningServer([SHARED_REAL])
    try:
        results = []
        for case in real_excerpts(SHARED_REAL):
            running.post("/_focus", {"doc": case.name})
            results.append(measure_document(case, _settings(running)))
    finally:
        running.stop()
    totals = summary(results)
    assert totals["new_silent"] == 0 and totals["lost"] == 0 and totals["llm_invented_unflagged"] == 0
    assert totals["rescued"] > 0 and totals["tables_sent_as_fallback"] > 0
    assert all(set(r.fallback) <= set(r.sent) for r in results)
    # a cell is rescued only from a table the LLM was sent
    assert all(key.split(".", 1)[0] in r.sent for r in results for key in r.rescued)


def test_the_measure_classes_each_cell_and_counts_only_the_llms_own_inventions() -> None:
    gold: dict[str, float] = {"t2.a": 1, "t2.b": 0}
    values = {"t2.a": 1, "t2.b": 5, "t2.c": 7, "t2.d": 3}
    flags = {"t2.b": ["x"], "t2.d": ["y"]}
    assert [classify(gold, values, flags, k) for k in ("t2.a", "t2.b", "t2.c", "t2.d", "t2.e")] == [
        "right", "wrong_flagged", "invented", "invented_flagged", None,
    ]  # fmt: skip
    result = DocumentResult(
        "d", rules={"t2.c": "invented", "t2.a": "missing"},
        auto={"t2.c": "invented", "t2.a": "right", "t2.d": "invented"},
        seconds_rules=0, seconds_auto=0, sent=["t2"], fallback=["t2"], usage={}, llm_cells=["t2.c", "t2.d", "t2.a"],
    )  # fmt: skip
    assert result.rescued == ["t2.a"]
    assert result.llm_invented == ["t2.d"]  # t2.c was the rules reader's, the LLM only agreed
    assert result.new_silent == ["t2.d"]
