"""The reader on each layout real pages produce, built here from a known consistent table."""

from __future__ import annotations

from decimal import Decimal

import pytest

from extractor.confidence import FLAG_BELOW
from extractor.ingest import load_bytes
from extractor.model import Extraction
from extractor.pipeline import extract
from extractor.readers.layout.tokens import parse_number, tokenize
from tests.helpers import T3_COLS, T3_KEYS_2021, T3_LABELS_2021, report_2021, sample_t3


def _read(text: str, name: str = "doc.txt") -> Extraction:
    return extract(load_bytes(text.encode("utf-8"), name))


def _assert_t3(result: Extraction, rows: dict[str, list[int]]) -> None:
    values = result.values()
    for key, cells in rows.items():
        for col, value in zip(T3_COLS, cells, strict=True):
            assert values.get(f"t3.{key}.{col}") == value, f"t3.{key}.{col}"


def _layout(rows: dict[str, list[int]], style: str) -> list[str]:
    lines: list[str] = []
    for key, label in zip(T3_KEYS_2021, T3_LABELS_2021, strict=True):
        cells = [str(v) for v in rows[key]]
        if style == "pipes":
            lines.append(f"{label} | " + " | ".join(cells) + " ||")
        elif style == "cell_per_line":
            lines.append(f"{label} |")
            lines.extend(f"{c} |" for c in cells)
            lines.append("||")
        elif style == "bar_lines":
            lines.extend([label, "|"])
            for c in cells:
                lines.extend([c, "|"])
        elif style == "paragraphs":
            lines.extend([label, ""])
            for c in cells:
                lines.extend([c, ""])
        elif style == "markdown":
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
        elif style == "spaces":
            lines.append(f"{label} " + " ".join(cells))
        elif style == "run_together":
            lines.append(label + "".join(cells))
    if style == "markdown":
        lines.insert(0, "|---|---|---|---|---|---|---|---|")
    return lines


@pytest.mark.parametrize(
    "style", ["pipes", "cell_per_line", "bar_lines", "paragraphs", "markdown", "spaces", "run_together"]
)
def test_each_layout_reads_table_3(style: str) -> None:
    rows = sample_t3(new=12, carried=2)
    result = _read(report_2021(_layout(rows, style)))
    assert result.template == "2021"
    _assert_t3(result, rows)
    assert result.flat()["flags"] == {} or style == "run_together"


def test_dropped_empty_cells_the_column_sums_place_are_settled() -> None:
    rows = sample_t3(new=12, carried=2)
    lines = _layout(rows, "spaces")
    lines[2] = "(一)予以公开 11 11"  # five empty cells dropped by the page; every other row is whole
    extraction = _read(report_2021(lines))
    flat = extraction.flat()
    assert flat["fields"]["t3.granted.natural"] == 11
    assert flat["fields"]["t3.granted.commercial"] == 0
    # '11' could sit in any applicant column by its row alone; the column sums leave one reading
    assert not any(key.startswith("t3.granted.") for key in flat["flags"])


def _dropping_zeros(lines: list[str]) -> list[str]:
    return [" ".join(word for word in line.split(" ") if word != "0") for line in lines]


def test_dropped_empty_cells_stay_flagged_where_every_row_could_shift() -> None:
    # every row drops its empty cells: shifting all of them into 商业企业 keeps every sum holding, and
    # with so few requests a table without any natural-person applicant is plausible
    flat = _read(report_2021(_dropping_zeros(_layout(sample_t3(new=3, carried=1), "spaces")))).flat()
    assert flat["fields"]["t3.granted.natural"] == 2
    assert {"t3.granted.natural", "t3.granted.commercial", "t3.new_received.natural"} <= set(flat["flags"])
    assert "t3.granted.total" not in flat["flags"]  # every reading puts 2 in the total column


def test_a_table_of_many_requests_is_not_read_as_one_without_natural_persons() -> None:
    # the same shift, in a table of 40 requests: a reading that leaves 自然人 empty everywhere is not
    # plausible, so the one that is left settles every cell
    flat = _read(report_2021(_dropping_zeros(_layout(sample_t3(new=40, carried=1), "spaces")))).flat()
    assert flat["fields"]["t3.granted.natural"] == 39
    assert not any(key.startswith("t3.granted.") for key in flat["flags"])


def test_missing_row_label_is_placed_by_position_and_the_sums_settle_it() -> None:
    rows = sample_t3(new=12, carried=2)
    lines = _layout(rows, "markdown")
    lines[3] = "| " + " | ".join(str(v) for v in rows["granted"]) + " |"  # (一)予以公开 lost its label
    extraction = _read(report_2021(lines))
    assert extraction.flat()["fields"]["t3.granted.natural"] == 11
    # every sum the row is in holds, its column sums beyond the row among them: no flag is left
    assert "t3.granted.natural" not in extraction.flat()["flags"]
    assert extraction.fields["t3.granted.natural"].confidence >= FLAG_BELOW


def test_missing_row_label_stays_flagged_when_a_sum_beyond_the_row_breaks() -> None:
    rows = sample_t3(new=12, carried=2)
    rows["granted"] = [10, *rows["granted"][1:-1], rows["granted"][-1] - 1]  # row sum holds, column 自然人 breaks
    lines = _layout(rows, "markdown")
    lines[3] = "| " + " | ".join(str(v) for v in rows["granted"]) + " |"
    flat = _read(report_2021(lines)).flat()
    assert flat["fields"]["t3.granted.natural"] == 10
    assert any("position" in r for r in flat["flags"]["t3.granted.natural"])


def test_traditional_labels_with_pinyin_glosses() -> None:
    rows = sample_t3(new=7, carried=0)
    lines = [line.replace("数量", "數(shù)量").replace("申请", "申請") for line in _layout(rows, "pipes")]
    _assert_t3(_read(report_2021(lines)), rows)


def test_number_formats() -> None:
    assert parse_number("+22") == 22
    assert parse_number("--253") == -253
    assert parse_number("增10") == 10
    assert parse_number("1,234") == 1234
    assert parse_number("103.3879万元") == Decimal("103.3879")
    assert parse_number("80618元") == 80618


def test_prose_numbers_and_list_numbering_are_not_cells() -> None:
    tokens = tokenize("全年公开规章 22 件、文件 34 条。5.属于三类内部事务信息3200000326.属于")
    numbers = [t.text for t in tokens if t.kind == "num"]
    assert numbers == ["320000032"]


def test_a_count_with_its_counter_word_is_a_cell_only_among_a_rows_cells() -> None:
    # '41件' printed as a cell of a row of plain cells is a value; counts in a phrase stay prose
    row = [(t.text, t.value) for t in tokenize("规范性文件 3 40 41件") if t.kind == "num"]
    assert row == [("3", 3), ("40", 40), ("41件", 41)]
    for phrase in ("规范性文件 41件", "共受理申请 9件 办结 8件", "公开9件 0", "受理 9件, 办结 0"):
        assert all("件" not in t.text for t in tokenize(phrase) if t.kind == "num"), phrase


def test_cut_off_document_leaves_unseen_cells_out() -> None:
    rows = sample_t3(new=12, carried=2)
    lines = _layout(rows, "pipes")[:5]
    text = report_2021(lines).split("四、政府信息公开行政复议")[0]
    flat = _read(text).flat()
    assert flat["fields"]["t3.granted.total"] == 11
    assert "t3.total.total" not in flat["fields"]
    assert "t4.review.total" not in flat["fields"]


def test_extra_subtotal_column_is_skipped() -> None:
    rows = sample_t3(new=12, carried=2)
    lines = _layout(rows, "spaces")
    lines[0] = "一、本年新收政府信息公开申请数量 12 0 0 0 0 0 0 12"  # 法人或其他组织 小计 column
    flat = _read(report_2021(lines)).flat()
    assert flat["fields"]["t3.new_received.total"] == 12
    assert flat["fields"]["t3.new_received.commercial"] == 0


def test_table_2_and_4() -> None:
    flat = _read(report_2021(_layout(sample_t3(), "pipes"))).flat()
    assert flat["fields"]["t2.normative.issued"] == 3
    assert flat["fields"]["t2.normative.in_force"] == 20
    assert flat["fields"]["t2.licensing.decisions"] == 120
    assert flat["fields"]["t4.review.upheld"] == 1
    assert flat["fields"]["t4.review.total"] == 1
    assert flat["fields"]["t4.suit_after_review.total"] == 0


def test_extra_value_in_table_4_is_flagged_not_skipped_silently() -> None:
    t4 = (
        "行政复议 | 行政诉讼\n结果维持 | 结果纠正 | 其他结果 | 尚未审结 | 总计 | 未经复议直接起诉 | 复议后起诉\n"
        "0 0 0 0 0 0 9 0 1 0 10 0 0 0 0 0\n"
    )
    flat = _read(report_2021(_layout(sample_t3(), "pipes"), table4=t4)).flat()
    assert all(f"t4.{g}.{c}" in flat["flags"] for g in ("review", "suit_direct") for c in ("upheld", "total"))


def test_prose_naming_table_2_rows_is_not_table_2() -> None:
    text = "某县2022年政府信息公开工作年度报告\n一、总体情况\n其中行政许可 12、行政处罚 3、行政强制 0。\n"
    flat = _read(text).flat()
    assert "t2.licensing.decisions" not in flat["fields"]


def test_row_printed_twice_with_different_numbers_is_flagged() -> None:
    t2 = (
        "第二十条第(五)项\n信息内容 | 本年处理决定数量\n行政许可 | 120\n第二十条第(六)项\n信息内容 | 本年处理决定数量\n"
        "行政许可 | 99\n行政处罚 | 7\n行政强制 | 0\n"
    )
    flat = _read(report_2021(_layout(sample_t3(), "pipes"), table2=t2)).flat()
    assert "t2.licensing.decisions" in flat["flags"]


def test_odd_digit_characters_do_not_crash() -> None:
    lines = _layout(sample_t3(), "markdown")
    lines[1] = "| 二、上年结转政府信息公开申请数量 | ① | 0² | 0 | 0 | 0 | 0 | 2 |"
    flat = _read(report_2021(lines)).flat()
    # the odd row lands where 一、 is due; its sums break there, the clean 二、 row below stays clean
    assert "t3.new_received.natural" in flat["flags"]
