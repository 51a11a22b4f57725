"""The constraint engine: a perturbed cell in a consistent table is the one flagged."""

from __future__ import annotations

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from extractor.model import FieldValue
from extractor.reconcile import evaluate, reconcile
from schemas import TEMPLATE_2019, TEMPLATE_2021, TemplateSpec

T3_PARTS = ["natural", "commercial", "research", "social", "legal", "other_org"]


@st.composite
def consistent_table(draw: st.DrawFn, template: TemplateSpec) -> dict[str, int]:
    """Random table 3 + table 4 satisfying every identity of the template."""
    t3 = template.section("t3")
    mandated = t3.rows_used()  # the form as mandated, not a row printed instead of others
    outcome_rows = [
        r.key for r in mandated if r.key not in {"new_received", "carried_over", "total", "carried_forward"}
    ]
    values: dict[str, int] = {}
    small = st.integers(min_value=0, max_value=40)
    for col in T3_PARTS:
        column_total = 0
        for row in outcome_rows:
            value = draw(small) if draw(st.booleans()) else 0
            values[f"t3.{row}.{col}"] = value
            column_total += value
        forward = draw(small)
        carried = draw(st.integers(min_value=0, max_value=column_total + forward))
        values[f"t3.total.{col}"] = column_total
        values[f"t3.carried_forward.{col}"] = forward
        values[f"t3.carried_over.{col}"] = carried
        values[f"t3.new_received.{col}"] = column_total + forward - carried
    for row in mandated:
        values[f"t3.{row.key}.total"] = sum(values[f"t3.{row.key}.{c}"] for c in T3_PARTS)
    for group in ("review", "suit_direct", "suit_after_review"):
        parts = [draw(small) for _ in range(4)]
        for col, value in zip(("upheld", "corrected", "other", "pending"), parts, strict=True):
            values[f"t4.{group}.{col}"] = value
        values[f"t4.{group}.total"] = sum(parts)
    return values


def _fields(values: dict[str, int]) -> dict[str, FieldValue]:
    return {key: FieldValue(key=key, value=value, raw=str(value)) for key, value in values.items()}


@settings(max_examples=150, deadline=None)
@given(data=st.data(), template=st.sampled_from([TEMPLATE_2019, TEMPLATE_2021]))
def test_consistent_table_raises_no_flag(data: st.DataObject, template: TemplateSpec) -> None:
    values = data.draw(consistent_table(template))
    fields = _fields(values)
    outcomes = reconcile(template, fields)
    assert outcomes and all(o.ok for o in outcomes)
    assert not any(f.flagged for f in fields.values())


@settings(max_examples=300, deadline=None)
@given(
    data=st.data(),
    template=st.sampled_from([TEMPLATE_2019, TEMPLATE_2021]),
    delta=st.integers(min_value=1, max_value=50),
    sign=st.sampled_from([1, -1]),
)
def test_one_perturbed_cell_is_the_one_flagged(
    data: st.DataObject, template: TemplateSpec, delta: int, sign: int
) -> None:
    values = data.draw(consistent_table(template))
    key = data.draw(st.sampled_from(sorted(values)))
    changed = values[key] + sign * delta
    values[key] = changed if changed >= 0 else values[key] + delta
    fields = _fields(values)
    reconcile(template, fields)
    perturbed = fields[key]
    assert perturbed.flagged
    assert perturbed.value == values[key], "a number the document shows is never changed"
    if key.startswith("t3."):
        # table 3 cells sit in two or three identities: the perturbed one alone breaks them all
        lowest = min(f.confidence for f in fields.values())
        assert perturbed.confidence == lowest
        assert [k for k, f in fields.items() if f.confidence == lowest] == [key]
        assert any("table says" in r or "but" in r for r in perturbed.reasons)
        # one error explains every broken sum: the cells those sums confirm are not flagged
        assert [k for k, f in fields.items() if f.flagged] == [key]


@settings(max_examples=150, deadline=None)
@given(data=st.data(), template=st.sampled_from([TEMPLATE_2019, TEMPLATE_2021]))
def test_a_value_shifted_to_the_next_column_keeps_both_columns_flagged(
    data: st.DataObject, template: TemplateSpec
) -> None:
    """A misplaced cell keeps its row sum and breaks two columns that share no cell: no lone
    culprit, so every cell of both columns stays flagged (the shifted ones must not go silent)."""
    values = data.draw(consistent_table(template))
    rows = sorted({k.split(".")[1] for k in values if k.startswith("t3.")} - {"total"})
    row = data.draw(st.sampled_from(rows))
    col = data.draw(st.sampled_from(range(len(T3_PARTS) - 1)))
    here, there = f"t3.{row}.{T3_PARTS[col]}", f"t3.{row}.{T3_PARTS[col + 1]}"
    assume(values[here] > 0)
    values[here], values[there] = 0, values[there] + values[here]  # moved one column on: the row sum holds
    fields = _fields(values)
    reconcile(template, fields)
    assert fields[here].flagged and fields[there].flagged


def test_reason_reads_like_the_table() -> None:
    values = {
        f"t4.review.{c}": v
        for c, v in zip(("upheld", "corrected", "other", "pending", "total"), (5, 1, 0, 0, 7), strict=True)
    }
    (outcome,) = evaluate(TEMPLATE_2021.constraints, values)
    assert not outcome.ok
    assert outcome.message == "行政复议: 5+1+0+0 = 6, table says 7"


def test_blank_cell_implied_by_sums_is_inferred_and_flagged() -> None:
    values = {
        f"t4.review.{c}": v
        for c, v in zip(("upheld", "corrected", "other", "pending", "total"), (2, 1, 0, 0, 0), strict=True)
    }
    fields = _fields(values)
    fields["t4.review.total"].status = "blank"
    fields["t4.review.total"].raw = ""
    reconcile(TEMPLATE_2021, fields)
    total = fields["t4.review.total"]
    assert total.value == 3 and total.status == "inferred" and total.flagged


def test_missing_cell_is_inferred_only_when_determined() -> None:
    values = {"t4.review.upheld": 2, "t4.review.corrected": 1, "t4.review.other": 0, "t4.review.pending": 0}
    fields = _fields(values)
    fields["t4.review.total"] = FieldValue("t4.review.total", None, status="missing", confidence=0.0)
    fields["t4.suit_direct.total"] = FieldValue("t4.suit_direct.total", None, status="missing", confidence=0.0)
    reconcile(TEMPLATE_2021, fields)
    assert fields["t4.review.total"].value == 3
    assert fields["t4.review.total"].status == "inferred"
    assert fields["t4.suit_direct.total"].value is None
