"""Calibration of flags in `gongkai eval`: how often a flagged cell is wrong, by the reader's confidence.

A flag is only useful if its confidence means something; these tests pin down the bookkeeping
(which cells count, which bin they land in) and that the report and the CLI show it.
"""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from evals.benchmark import run_benchmark
from evals.gold import GoldCase
from evals.report import calibration_html, write_report
from evals.score import CALIBRATION_EDGES, DocScore, calibration, score, summarize
from extractor.cli.evaluate import calibration_table
from extractor.model import Extraction, FieldValue

GOLD = {"template": "2021", "fields": {"a": 1, "b": 2, "c": 3, "d": 4}}


def test_score_records_flagged_gold_cells_with_confidence() -> None:
    flat = {
        "template": "2021",
        "fields": {"a": 1, "b": 5, "c": 3, "x": 9},  # d missing, x not in gold
        "flags": {"a": ["r"], "b": ["r"], "d": ["missing"], "x": ["inferred"]},
    }
    s = score("doc", flat, GOLD, confidence={"a": 0.85, "b": 0.45, "c": 0.99, "x": 0.5})
    assert sorted(s.flagged_cells) == [("a", 0.85, False), ("b", 0.45, True), ("d", 0.0, True)]
    assert s.false_flags == 1 and s.false_flag_keys == ["a"]
    assert s.flagged_errors == 2 and s.silent_errors == 0 and s.invented == 0


def test_calibration_bins_count_and_rate() -> None:
    s = DocScore("doc", flagged_cells=[("a", 0.0, True), ("b", 0.05, False), ("c", 0.85, False), ("d", 1.0, True)])
    s2 = DocScore("doc2", flagged_cells=[("e", 0.3, True), ("f", 0.899, True), ("g", 0.9, False)])
    bins = calibration([s, s2])
    assert [b.low for b in bins] == list(CALIBRATION_EDGES[:-1]) and len(bins) == 10
    by_label = {b.label: (b.flagged, b.wrong) for b in bins}
    assert by_label["0.0–0.1"] == (2, 1)
    assert by_label["0.3–0.4"] == (1, 1)  # a bin's low edge is inside it
    assert by_label["0.8–0.9"] == (2, 1)
    assert by_label["0.9–1.0"] == (2, 1)  # the top edge is inside the last bin
    assert sum(b.flagged for b in bins) == 7 and sum(b.wrong for b in bins) == 4
    empty = next(b for b in bins if b.label == "0.5–0.6")
    assert empty.flagged == 0 and empty.wrong_rate is None
    assert bins[0].wrong_rate == 0.5


def _reader(case: GoldCase) -> Extraction:
    cells = {
        "a": FieldValue("a", 1, confidence=0.99),
        "b": FieldValue("b", 7, confidence=0.4, reasons=["row sum fails"]),
        "c": FieldValue("c", 3, confidence=0.85),  # flagged by low confidence alone, right
    }
    return Extraction(case.name, "2021", 2024, "x", fields=cells)


def test_benchmark_passes_cell_confidence_to_scoring(tmp_path: Path) -> None:
    case = GoldCase("doc", tmp_path / "doc.txt", {"template": "2021", "fields": {"a": 1, "b": 2, "c": 3}})
    result = run_benchmark([case], reader=_reader)
    assert sorted(result.scores[0].flagged_cells) == [("b", 0.4, True), ("c", 0.85, False)]
    bins = {b.label: (b.flagged, b.wrong) for b in calibration(result.scores)}
    assert bins["0.4–0.5"] == (1, 1) and bins["0.8–0.9"] == (1, 0)


def test_report_and_cli_show_the_calibration(tmp_path: Path) -> None:
    scores = [DocScore("doc", gold_fields=3, correct=2, flagged_cells=[("a", 0.45, True), ("b", 0.85, False)])]
    page = write_report(scores, summarize(scores), tmp_path, "t")
    assert (tmp_path / "calibration.png").stat().st_size > 1000
    text = page.read_text(encoding="utf-8")
    assert 'src="calibration.png"' in text and calibration_html(calibration(scores)) in text
    assert "<td>0.4–0.5</td><td>1</td><td>1</td><td>100%</td>" in text
    buffer = io.StringIO()
    Console(file=buffer, width=100).print(calibration_table(calibration(scores)))
    out = buffer.getvalue()
    assert "0.8–0.9" in out and "0%" in out and "100%" in out
