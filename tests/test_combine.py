"""Two readers, one answer: agreement settles layout doubts, the sums settle disagreements."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from extractor.cli import app
from extractor.combine import combine
from extractor.model import FieldValue
from schemas import TEMPLATE_2021

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
    assert merged.fields["t4.review.total"].flagged
    assert merged.disputed == 1


def test_llm_reader_without_configuration_says_how_to_configure(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("GONGKAI_LLM_BASE_URL", "GONGKAI_LLM_MODEL", "GONGKAI_LLM_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    result = CliRunner().invoke(app, ["extract", "--reader", "llm", "--no-store"])
    assert result.exit_code == 2
    assert "no LLM is configured" in result.stderr and "GONGKAI_LLM_BASE_URL" in result.stderr
