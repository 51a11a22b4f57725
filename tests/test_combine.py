"""Two readers, one answer: agreement settles layout doubts, the sums settle disagreements."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest
from typer.testing import CliRunner

from extractor import pipeline
from extractor.cli import app
from extractor.combine import combine, sections_to_check
from extractor.ingest import load_path
from extractor.model import FieldValue
from extractor.readers.layout import assemble
from extractor.reconcile import reconcile
from schemas import DISCLOSURE_REPORT, TEMPLATE_2021
from tests.helpers import SHARED_REAL

T4 = ("upheld", "corrected", "other", "pending", "total")


def _row(values: tuple[int, ...], source: str, group: str = "review") -> dict[str, FieldValue]:
    return {
        f"t4.{group}.{col}": FieldValue(f"t4.{group}.{col}", v, raw=str(v), source=source)
        for col, v in zip(T4, values, strict=True)
    }


def test_agreement_clears_layout_doubts_but_not_hard_ones() -> None:
    rules = _row((2, 1, 0, 0, 3), "rules")
    rules["t4.review.upheld"].doubt("placed by position", 0.85)
    rules["t4.review.total"].doubt("negative value", 0.3, layout=False)
    llm = _row((2, 1, 0, 0, 3), "llm")
    merged = combine(TEMPLATE_2021, rules, llm, ["t4"])
    assert not merged.fields["t4.review.upheld"].flagged
    assert merged.fields["t4.review.upheld"].source == "rules+llm"
    assert merged.fields["t4.review.total"].flagged
    assert merged.agreed == 5


def test_disagreement_goes_to_the_reading_that_satisfies_the_sums() -> None:
    rules = _row((2, 1, 0, 0, 4), "rules")  # a misread total: 2+1 ≠ 4
    llm = _row((2, 1, 0, 0, 3), "llm")
    merged = combine(TEMPLATE_2021, rules, llm, ["t4"])
    assert merged.fields["t4.review.total"].value == 3
    assert merged.fields["t4.review.total"].source == "llm"
    assert merged.settled == 1


def test_ungrounded_llm_value_never_wins() -> None:
    rules = _row((2, 1, 0, 0, 4), "rules")
    llm = _row((2, 1, 0, 0, 3), "llm")
    llm["t4.review.total"].doubt("3 is not in the source text of this row (not grounded)", 0.3)
    merged = combine(TEMPLATE_2021, rules, llm, ["t4"])
    assert merged.fields["t4.review.total"].value == 4
    # no evidence against a clean reading: noted on the run, not a dispute; the broken sum still flags it
    assert merged.disputed == 0 and any("ungrounded" in note for note in merged.notes)
    reconcile(TEMPLATE_2021, merged.fields)
    assert merged.fields["t4.review.total"].flagged


def test_ungrounded_llm_value_does_not_fill_a_gap() -> None:
    rules = _row((2, 1, 0, 0, 3), "rules")
    rules["t4.review.pending"] = FieldValue("t4.review.pending", None, status="missing", confidence=0.0)
    llm = _row((2, 1, 0, -1, 3), "llm")
    llm["t4.review.pending"].doubt("-1 is not in the source text of this row (not grounded)", 0.3)
    merged = combine(TEMPLATE_2021, rules, llm, ["t4"])
    assert merged.fields["t4.review.pending"].value is None  # left for the reconciler to infer, or to flag
    assert merged.fields["t4.review.pending"].flagged

    llm["t4.review.pending"] = FieldValue("t4.review.pending", 0, raw="0", source="llm")  # grounded: taken, flagged
    merged = combine(TEMPLATE_2021, rules, llm, ["t4"])
    assert merged.fields["t4.review.pending"].value == 0 and merged.fields["t4.review.pending"].flagged


@pytest.mark.skipif(not (SHARED_REAL / "seed-dongtonghua-2020.txt").exists(), reason="shared benchmark absent")
def test_auto_sends_only_sections_a_second_reading_can_settle() -> None:
    doc = load_path(SHARED_REAL / "seed-dongtonghua-2020.txt")
    plan = pipeline.plan(doc)
    reading = assemble(plan, pipeline.read_rules(doc, plan), "rules", pipeline.reader_version("rules"))
    assert reading.template is not None
    template = DISCLOSURE_REPORT.template(reading.template)
    found = ["t2", "t3", "t4"]

    def check(change: Callable[[dict[str, FieldValue]], None]) -> list[str]:
        fields = {k: replace(v, reasons=list(v.reasons)) for k, v in reading.fields.items()}
        change(fields)
        return sections_to_check(template, fields, found)

    def doubt(section: str) -> Callable[[dict[str, FieldValue]], None]:
        return lambda fields: next(v for k, v in fields.items() if k.startswith(section)).doubt("by position", 0.8)

    def lose(section: str) -> Callable[[dict[str, FieldValue]], None]:
        def change(fields: dict[str, FieldValue]) -> None:
            for key in [k for k in fields if k.startswith(section)]:
                fields[key] = FieldValue(key, None, status="missing", confidence=0.0, reasons=["not found"])

        return change

    def misread(fields: dict[str, FieldValue]) -> None:
        fields["t3.total.total"] = replace(fields["t3.total.total"], value=int(fields["t3.total.total"].value or 0) + 7)

    assert check(lambda fields: None) == []  # read cleanly, every sum holds
    assert check(doubt("t2")) == []  # no sum checks table 2: a second reading could confirm nothing
    assert check(doubt("t4")) == ["t4"]
    assert check(misread) == ["t3"]  # a broken sum, though no cell was doubted
    assert check(lose("t4")) == []  # the last table cut off: there is nothing to read
    assert check(lose("t3")) == ["t3"]  # cells lost in the middle of the document


def test_llm_reader_without_configuration_says_how_to_configure(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("GONGKAI_LLM_BASE_URL", "GONGKAI_LLM_MODEL", "GONGKAI_LLM_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    result = CliRunner().invoke(app, ["extract", "--reader", "llm", "--no-store"])
    assert result.exit_code == 2
    assert "no LLM is configured" in result.stderr and "GONGKAI_LLM_BASE_URL" in result.stderr
