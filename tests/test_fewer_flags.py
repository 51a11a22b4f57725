"""Cells the arithmetic settles are not flagged; cells it cannot settle still are.

Each test builds its page from a consistent table (tests.helpers) and changes one thing.
"""

from __future__ import annotations

from tests.helpers import T3_COLS, T3_KEYS_2021, T3_LABELS_2021, pipe_rows, read_page, report_2021, sample_t3

_read = read_page
_pipes = pipe_rows


def test_a_row_counted_twice_flags_that_row_not_every_cell_of_its_columns() -> None:
    rows: dict[str, list[int | str]] = dict(sample_t3(new=3, carried=1))  # type: ignore[arg-type]
    rows["denied_process"] = [5, 0, 0, 0, 0, 0, 5]  # the publisher adds a row its totals never counted
    result = _read(report_2021(_pipes(rows)))
    flags = result.flat()["flags"]
    assert result.values()["t3.denied_process.natural"] == 5  # kept as printed, never "fixed"
    assert {"t3.denied_process.natural", "t3.denied_process.total"} <= flags.keys()
    assert "publisher" in " ".join(result.fields["t3.denied_process.natural"].reasons)
    # the other cells of the broken columns each add up in their own row, and no other row holds
    # enough to explain the columns: they are not suspects
    assert not {f"t3.granted.{col}" for col in T3_COLS} & flags.keys()
    assert "t3.total.natural" not in flags and "t3.unable_not_held.natural" not in flags


def test_two_rows_that_could_each_explain_a_broken_column_are_both_flagged() -> None:
    rows: dict[str, list[int | str]] = dict(sample_t3(new=3, carried=1))  # type: ignore[arg-type]
    rows["denied_process"] = [2, 0, 0, 0, 0, 0, 2]  # as much as (一)予以公开: either may be the extra one
    flags = _read(report_2021(_pipes(rows))).flat()["flags"]
    assert {"t3.denied_process.natural", "t3.granted.natural"} <= flags.keys()
    assert "t3.unable_not_held.natural" not in flags  # its 1 cannot account for 2


def test_a_numbered_bare_label_between_label_lines_names_its_row() -> None:
    # '3.其他' printed alone between (六)2's label and (七)总计: bare '其他' is a column header elsewhere
    rows = sample_t3(new=6, carried=0)
    rows["other_misc"] = [2, 0, 0, 0, 0, 0, 2]
    rows["granted"] = [3, 0, 0, 0, 0, 0, 3]
    lines = []
    for key, label in zip(T3_KEYS_2021, T3_LABELS_2021, strict=True):
        shown = [str(v) for v in rows[key] if v]
        lines.append(" ".join([label, *shown]) if key != "other_misc" else label.replace("(六)", ""))
        if key == "other_misc":
            lines.append(" ".join(shown))
    result = _read(report_2021(lines))
    assert result.values()["t3.other_misc.natural"] == 2
    assert result.values()["t3.other_overdue_fee.natural"] == 0


def test_a_dash_apart_from_its_digits_is_a_blank_cell_not_a_sign() -> None:
    rows: dict[str, list[int | str]] = dict(sample_t3(new=5, carried=1))  # type: ignore[arg-type]
    lines = _pipes(rows)
    lines[0] = "一、本年新收政府信息公开申请数量 5 - — — 0 - 5"
    result = _read(report_2021(lines))
    assert result.values()["t3.new_received.total"] == 5
    assert result.values()["t3.new_received.other_org"] == 0


def test_a_header_that_numbers_its_columns_hides_no_value() -> None:
    rows: dict[str, list[int | str]] = dict(sample_t3(new=5, carried=1))  # type: ignore[arg-type]
    lines = _pipes(rows)
    lines.insert(3, "| 类别 | 数据1 | 数据2 | 数据3 | 数据4 | 数据5 | 数据6 | 总计 |")
    flags = _read(report_2021(lines)).flat()["flags"]
    assert not any(key.startswith("t3.") for key in flags)


def test_a_subtotal_that_could_be_either_of_two_cells_is_told_by_the_column_sums() -> None:
    # '法人或其他组织 小计' printed beside the fields: in '0 2 0 0 0 2 0 2' either 2 may be the subtotal
    rows: dict[str, list[int | str]] = dict(sample_t3(new=5, carried=1))  # type: ignore[arg-type]
    rows["new_received"] = [3, 0, 0, 0, 2, 0, 5]
    rows["total"] = [3, 0, 0, 0, 2, 0, 5]
    rows["granted"] = [2, 0, 0, 0, 2, 0, 4]
    lines = []
    for key, label in zip(T3_KEYS_2021, T3_LABELS_2021, strict=True):
        v = [int(x) for x in rows[key]]
        lines.append(" ".join([label, str(v[0]), str(sum(v[1:6])), *map(str, v[1:])]))
    result = _read(report_2021(lines))
    assert result.values()["t3.new_received.legal"] == 2 and result.values()["t3.new_received.commercial"] == 0
    assert not any(key.startswith("t3.new_received.") for key in result.flat()["flags"])


def test_as_many_digits_as_cells_leave_one_cut() -> None:
    # table 4's fifteen one-digit cells printed with spaces in the wrong places
    t4 = (
        "行政复议 | 行政诉讼\n结果维持 | 结果纠正 | 其他结果 | 尚未审结 | 总计 | 未经复议直接起诉 | 复议后起诉\n"
        "10 0 1 200 0 0 0 0 0 0 00\n"
    )
    result = _read(report_2021(_pipes(dict(sample_t3())), table4=t4))
    assert [result.values()[f"t4.review.{c}"] for c in ("upheld", "corrected", "other", "pending", "total")] == [
        1,
        0,
        0,
        1,
        2,
    ]
    assert not any(key.startswith("t4.") for key in result.flat()["flags"])


def test_a_cell_that_alone_breaks_its_sums_gets_the_value_they_need_proposed_not_applied() -> None:
    rows: dict[str, list[int | str]] = dict(sample_t3(new=38, carried=1))  # type: ignore[arg-type]
    rows["granted"] = [87, 0, 0, 0, 0, 0, 37]  # 37 read as 87: its row and its column break by 50
    result = _read(report_2021(_pipes(rows)))
    cell = result.fields["t3.granted.natural"]
    assert cell.value == 87 and "t3.granted.natural" in result.flat()["flags"]  # kept as read
    reasons = " ".join(cell.reasons)
    assert "holds with 37 here" in reasons and "'3' read as '8'" in reasons and "not applied" in reasons


def test_misreadings_are_single_ocr_slips_only() -> None:
    from extractor.reconcile.proposals import misreading

    assert misreading("86", "36") == "'3' read as '8'"
    assert misreading("117", "17") == "a digit doubled"
    assert misreading("17", "117") == "a digit dropped"
    assert misreading("12", "34") == ""  # two digits differ: not one slip
    assert misreading("42", "52") == ""  # 4/5 are not a confusion OCR makes on print


def test_list_numbering_with_a_comma_mark_is_no_value() -> None:
    # '1、申请人…' inside the (六) row's cell: 、 (',' once normalised) numbers the sub-row, it is not a count
    rows: dict[str, list[int | str]] = dict(sample_t3(new=5, carried=1))  # type: ignore[arg-type]
    lines = _pipes(rows)
    i = T3_KEYS_2021.index("other_overdue_correction")
    label = "1、申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请"
    lines[i] = f"| （六）其他处理 | {label} | 0 | 0 | 0 | 0 | 0 | 0 | 0 |"
    result = _read(report_2021(lines))
    assert not any(key.startswith("t3.other.") for key in result.fields)  # no merged (六) row invented
    assert result.values()["t3.other_overdue_correction.total"] == 0


def test_unlabelled_rows_are_counted_against_the_form_without_the_merged_other_row() -> None:
    # a PDF conversion pushed the labels of (五)5, (六)1 and (六)2 above the table: three rows of
    # values stand between (五)4 and (六)3. They are those three rows, not (六)其他处理 printed as one
    # row, which a report prints instead of (六)1-3, never beside them.
    rows = sample_t3(new=6, carried=0)
    rows["granted"] = [2, 0, 0, 0, 0, 0, 2]
    rows["other_overdue_correction"] = [3, 0, 0, 0, 0, 0, 3]
    lines = _pipes(rows)
    lost = {T3_KEYS_2021.index(key) for key in ("rejected_confirm", "other_overdue_correction", "other_overdue_fee")}
    lines = [line.split(" | ", 1)[1] if i in lost else line for i, line in enumerate(lines)]
    result = _read(report_2021(lines))
    values = result.values()
    assert not any(key.startswith("t3.other.") for key in values)
    assert values["t3.other_overdue_correction.natural"] == 3
    assert values["t3.rejected_confirm.total"] == 0
    assert values["t3.other_overdue_fee.total"] == 0
    reasons = " ".join(r for key in values if key.startswith("t3.") for r in result.fields[key].reasons)
    assert "is a guess from its position" not in reasons


def test_a_row_followed_by_the_next_rows_label_was_not_cut_off() -> None:
    # the page ends inside table 3, after the label of a row printed without values; the row before it
    # shows one 0 of its seven cells (the empty ones dropped): it ended there, and every place of
    # that 0 gives every cell 0, so its cells are not in doubt
    rows = sample_t3(new=6, carried=0)
    pairs = zip(T3_KEYS_2021, T3_LABELS_2021, strict=True)
    lines = [" ".join([label, *(str(v) for v in rows[key] if v)]) for key, label in pairs]
    at = T3_KEYS_2021.index("denied_law_forbidden")
    lines = [*lines[:at], f"{T3_LABELS_2021[at]} 0", T3_LABELS_2021[at + 1]]
    text = report_2021(lines).split("四、政府信息公开行政复议")[0]
    flags = _read(text).flat()["flags"]
    assert not {f"t3.denied_law_forbidden.{col}" for col in T3_COLS} & flags.keys()
    cut = [f"{T3_LABELS_2021[at]} 0"]  # the same row with no label after it may be cut mid-row: doubted
    flags = _read(report_2021([*lines[:at], *cut]).split("四、政府信息公开行政复议")[0]).flat()["flags"]
    assert {f"t3.denied_law_forbidden.{col}" for col in T3_COLS} & flags.keys()
