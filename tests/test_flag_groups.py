"""Flags grouped by cause (`extractor.flag_groups`) and the official form's grid (`extractor.form_layout`)."""

from __future__ import annotations

from extractor.flag_groups import NO_REASON, group_flags, normalise
from extractor.form_layout import form_layout, section_layout
from schemas import TEMPLATE_2019, TEMPLATE_2021, ColumnSpec, RowSpec, SectionSpec

NOT_FOUND = "cell not found in the document"


def test_identical_reasons_collapse_per_section() -> None:
    reasons = {f"t4.review.{c}": [NOT_FOUND] for c in ("upheld", "corrected", "other", "pending", "total")}
    reasons |= {"t3.total.natural": [NOT_FOUND], "t4.suit_direct.total": [NOT_FOUND]}
    groups = group_flags(reasons)
    assert [(g.section, g.cause, g.count) for g in groups] == [("t4", NOT_FOUND, 6), ("t3", NOT_FOUND, 1)]
    assert groups[0].keys[-1] == "t4.suit_direct.total" and groups[0].example == NOT_FOUND


def test_rows_differing_only_in_label_and_numbers_group_together() -> None:
    reasons = {
        "t3.granted.natural": [
            "一、本年新收政府信息公开申请数量: only 1 of 3 cells shown (empty cells dropped); placement uncertain"
        ],
        "t3.partial.natural": ["(二)部分公开: only 2 of 7 cells shown (empty cells dropped); placement uncertain"],
        "t3.partial.legal": ["row (二)部分公开: 3+0+0+1 = 4, table says 0 — this cell breaks 2 sums"],
        "t3.granted.legal": ["row (一)予以公开: 258+12+0+0+1+1 = 272, table says 0 — this cell breaks 12 sums"],
        "t3.other.total": ["row 规章 is printed more than once, with different numbers: 3 / 4"],
    }
    groups = group_flags(reasons)
    assert [g.count for g in groups] == [2, 2, 1]
    assert groups[0].cause == "…: only N of N cells shown (empty cells dropped); placement uncertain"
    assert groups[1].cause == "row …: N+… = N, table says N — this cell breaks N sums"
    assert groups[2].cause == "row … is printed more than once, with different numbers: N / N"


def test_different_causes_stay_apart_and_a_cell_can_sit_in_several() -> None:
    reasons = {
        "t3.a.natural": [
            "in a broken sum: row X: 1+2 = 3, table says 4",
            "negative value -3 in a column that cannot be negative",
        ],
        "t3.b.natural": ["in a broken sum: row Y: 5+6 = 11, table says 12"],
        "t2.fees.amount": ["printed with a unit ('251000元') where the template's column names none: check the scale"],
        "t2.rules.issued": [],
    }
    groups = group_flags(reasons, order=["t2.rules.issued", "t2.fees.amount", "t3.a.natural", "t3.b.natural"])
    causes = [(g.section, g.cause, g.keys) for g in groups]
    assert causes[0] == ("t2", NO_REASON, ("t2.rules.issued",))  # reading order, not the mapping's
    assert causes[1][1] == "printed with a unit ('…') where the template's column names none: check the scale"
    assert ("t3", "in a broken sum: row …: N+… = N, table says N", ("t3.a.natural", "t3.b.natural")) in causes
    assert ("t3", "negative value N in a column that cannot be negative", ("t3.a.natural",)) in causes
    assert sum(g.count for g in groups) == 5


def test_normalise_keeps_the_words_and_drops_the_specifics() -> None:
    assert normalise("cells run together in '1234': 3 splits fit (1|234; 12|34…)") == (
        "cells run together in '…': N splits fit (N|N; N|N…)"
    )
    assert normalise("column 自然人: 822+18 = 840 but 767+72 = 839") == "column …: N+… = N but N+… = N"
    assert normalise("row label reads '规章x' but its place is '规章'") == "row label reads '…' but its place is '…'"
    assert normalise("decimal value 1,234.5 in a column of counts") == "decimal value N in a column of counts"


# ---------------------------------------------------------------------------------- form layout


def test_every_field_appears_once_in_printed_order() -> None:
    for template in (TEMPLATE_2019, TEMPLATE_2021):
        keys = [key for section in form_layout(template) for key in section.field_keys()]
        assert keys == template.used_keys()  # the mandated form; a merged row shows only where read


def test_rows_with_other_columns_start_a_new_block_with_its_own_header() -> None:
    t2 = form_layout(TEMPLATE_2021)[0]
    assert [len(b.rows) for b in t2.blocks] == [2, 3, 1]  # documents, decisions, fees
    assert [h.label for h in t2.blocks[0].header[0]] == ["本年制发件数", "本年废止件数", "现行有效件数"]
    assert [h.label for h in t2.blocks[2].header[0]] == ["本年收费金额(万元)"]
    assert all(b.row_labels for b in t2.blocks)
    t3 = form_layout(TEMPLATE_2021)[1]
    assert len(t3.blocks) == 1 and t3.blocks[0].width == 7 and t3.blocks[0].rows[0].label.startswith("一、本年新收")


def test_an_unlabelled_section_prints_its_rows_side_by_side_under_group_headings() -> None:
    t4 = form_layout(TEMPLATE_2019)[2]
    (block,) = t4.blocks
    assert not block.row_labels and len(block.rows) == 1 and block.width == 15
    top, middle, columns = block.header
    assert [(h.label, h.colspan, h.rowspan) for h in top] == [("行政复议", 5, 2), ("行政诉讼", 10, 1)]
    assert [(h.label, h.colspan) for h in middle] == [("未经复议直接起诉", 5), ("复议后起诉", 5)]
    assert len(columns) == 15 and columns[0].label == "结果维持"
    # every header line covers the full width once rowspans from above are counted
    assert sum(h.colspan for h in top) == sum(h.colspan for h in middle) + 5 == 15


def test_layout_is_built_from_the_schema_not_a_fixed_form() -> None:
    cols = (ColumnSpec(key="a", label="A"), ColumnSpec(key="b", label="B"))
    section = SectionSpec(
        key="tx", title="X", labelled=False,
        rows=(RowSpec(key="p", label="P", columns=cols), RowSpec(key="q", label="P·Q", columns=cols[:1]),
              RowSpec(key="r", label="R", columns=cols)),
    )  # fmt: skip
    (block,) = section_layout(section).blocks
    assert [(h.label, h.colspan, h.rowspan) for h in block.header[0]] == [("P", 2, 2), ("P", 1, 1), ("R", 2, 2)]
    assert [(h.label, h.colspan) for h in block.header[1]] == [("Q", 1)]
    assert [c.key for c in block.rows[0].cells] == ["tx.p.a", "tx.p.b", "tx.q.a", "tx.r.a", "tx.r.b"]
    assert form_layout(TEMPLATE_2021) is form_layout(TEMPLATE_2021)  # built once per template
