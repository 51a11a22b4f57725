"""Issue 9's patterns, one rule each: what the reader does with layouts it was never tuned to.

Each test builds its page from a consistent table (tests.helpers) and changes one thing, so a
failure names the rule that broke, not a document.
"""

from __future__ import annotations

import pytest

from extractor.flag_groups import group_flags
from extractor.ingest import IngestError, load_bytes
from tests.helpers import T3_COLS, T3_KEYS_2021, T3_LABELS_2021, pipe_rows, read_page, report_2021, sample_t3

_read = read_page
_pipes = pipe_rows


def test_a_blank_total_breaks_its_row_and_only_the_total_is_flagged() -> None:
    rows: dict[str, list[int | str]] = dict(sample_t3(new=5, carried=1))  # type: ignore[arg-type]
    rows["granted"] = [4, 0, 0, 0, 0, 0, "—"]  # the row's total left blank
    result = _read(report_2021(_pipes(rows)))
    flags = result.flat()["flags"]
    total = result.fields["t3.granted.total"]
    assert (total.value, total.status) == (4, "inferred") and "t3.granted.total" in flags  # proposed, never read
    # the row's other cells are vouched for by their columns, which hold
    assert not {f"t3.granted.{col}" for col in T3_COLS[:-1]} & flags.keys()


def test_a_printed_total_that_breaks_its_row_is_the_only_cell_flagged() -> None:
    rows: dict[str, list[int | str]] = dict(sample_t3(new=5, carried=1))  # type: ignore[arg-type]
    rows["granted"] = [4, 0, 0, 0, 0, 0, 0]  # the publisher printed 0 as the row's total
    flags = _read(report_2021(_pipes(rows))).flat()["flags"]
    assert any("publisher" in reason for reason in flags["t3.granted.total"])
    assert not {f"t3.granted.{col}" for col in T3_COLS[:-1]} & flags.keys()


def test_a_table_printed_without_any_number_is_one_doubt() -> None:
    labels_only = [f"{label} |" for label in T3_LABELS_2021]
    result = _read(report_2021(labels_only))
    t3 = {k: f for k, f in result.fields.items() if k.startswith("t3.")}
    assert t3 and all(f.value == 0 and f.status == "blank" for f in t3.values())
    assert [k for k, f in t3.items() if f.flagged] == ["t3.total.total"]
    assert any("no values at all" in note for note in result.notes)


def test_a_table_without_numbers_at_the_end_of_the_text_keeps_every_cell_flagged() -> None:
    text = report_2021([f"{label} |" for label in T3_LABELS_2021])
    cut = text[: text.index("四、政府信息公开行政复议")]  # the page may have been cut right after the labels
    result = _read(cut)
    t3 = [f for k, f in result.fields.items() if k.startswith("t3.")]
    assert t3 and all(f.flagged for f in t3)


def test_row_words_in_prose_never_become_cells() -> None:
    prose = (
        "某镇人民政府2025年政府信息公开工作年度报告\n一、总体情况\n"
        "· 全年新收政府信息公开申请6件,上年结转6件。\n· 无“予以公开”案例,结转下年度继续办理0件。\n"
    )
    text = report_2021([])
    cut = prose + text[text.index("二、主动公开政府信息情况") : text.index("申请人情况")]  # table 3 cut in its header
    result = _read(cut)
    unflagged = {k: f.value for k, f in result.fields.items() if k.startswith("t3.") and not f.flagged}
    assert unflagged == {}


def test_a_bracketed_instruction_labels_no_row() -> None:
    t2 = (
        "第二十条第(一)项\n信息内容 | 本年新制作数量 | 本年新公开数量 | 对外公开总数量\n规章 | 0 | 0 | 0\n"
        "规范性文件 | 2 | 2 | 9\n第二十条第(五)项\n信息内容 | 上一年项目数量 | 本年增/减 | 处理决定数量\n"
        "行政许可 | 5 | 1 | 30\n其他对外管理服务事项(指行政许可以外的事项,含行政处罚、行政强制) | 7 | 0 | 12\n"
        "第二十条第(六)项\n信息内容 | 上一年项目数量 | 本年增/减 | 处理决定数量\n行政处罚 | 3 | 0 | 4\n"
        "行政强制 | 1 | 0 | 2\n"
    )
    lines = _pipes(sample_t3())
    first = T3_KEYS_2021.index("other_overdue_correction")
    lines[first : first + 3] = ["(六)其他处理 | 0 | 0 | 0 | 0 | 0 | 0 | 0"]  # a 2019 report's table 3
    result = _read(report_2021(lines, table2=t2).replace("2022年", "2020年"))
    assert result.template == "2019"
    values = result.values()
    assert (values["t2.other_services.prev_items"], values["t2.other_services.decisions"]) == (7, 12)
    assert (values["t2.coercion.prev_items"], values["t2.coercion.decisions"]) == (1, 2)


def test_a_2021_report_with_2019_columns_in_table_2_keeps_its_template_and_flags_that_table() -> None:
    t2 = (
        "第二十条第(一)项\n信息内容 | 本年新制作数量 | 本年新公开数量 | 对外公开总数量\n规章 | 0 | 0 | 0\n"
        "规范性文件 | 2 | 2 | 9\n第二十条第(五)项\n信息内容 | 上一年项目数量 | 本年增/减 | 处理决定数量\n"
        "行政许可 | 5 | 1 | 30\n"
    )
    result = _read(report_2021(_pipes(sample_t3()), table2=t2))
    assert result.template == "2021"  # table 3 prints the 2021 (六) rows
    flags = result.flat()["flags"]
    assert all(key in flags for key in result.fields if key.startswith("t2.") and result.fields[key].value is not None)
    assert any("another template version" in reason for reason in flags["t2.normative.issued"])


def test_a_2021_report_printing_six_as_one_row_reads_t3_other() -> None:
    rows = sample_t3(new=5, carried=1)
    lines = _pipes(rows)
    first = T3_KEYS_2021.index("other_overdue_correction")
    lines[first : first + 3] = ["(六)其他处理 | 2 | 0 | 0 | 0 | 0 | 0 | 2"]
    total = T3_KEYS_2021.index("total") - 2
    lines[total] = "(七)总计 | 7 | 0 | 0 | 0 | 0 | 0 | 7"
    lines[total + 1] = "四、结转下年度继续办理 | -1 | 0 | 0 | 0 | 0 | 0 | -1"
    lines[0] = "一、本年新收政府信息公开申请数量 | 6 | 0 | 0 | 0 | 0 | 0 | 6"
    result = _read(report_2021(lines))
    assert [result.fields[f"t3.other.{c}"].value for c in T3_COLS] == [2, 0, 0, 0, 0, 0, 2]
    assert not [k for k in result.fields if k.startswith("t3.other_")]  # absent, not missing
    assert "t3.other.natural" not in result.flat()["flags"]


def test_lone_pipe_lines_are_empty_cells() -> None:
    rows = sample_t3(new=5, carried=1)
    lines: list[str] = []
    for key, label in zip(T3_KEYS_2021, T3_LABELS_2021, strict=True):
        lines.append(label)
        lines.extend("|" if value == 0 else f"{value} |" for value in rows[key])
    result = _read(report_2021(lines))
    for key in T3_KEYS_2021:
        for col, value in zip(T3_COLS, rows[key], strict=True):
            assert result.fields[f"t3.{key}.{col}"].value == value
    assert not [k for k in result.flat()["flags"] if k.startswith("t3.")]


def test_a_page_that_starts_with_a_table_is_a_report_and_other_text_is_not() -> None:
    text = report_2021(_pipes(sample_t3()))
    page = text[text.index("第二十条") :].replace("信息公开", "资讯公开").replace("主动公开", "")
    assert "信息公开" not in page
    assert _read(page).fields["t3.granted.natural"].value == 4
    with pytest.raises(IngestError, match="not a government information-disclosure report"):
        load_bytes("第二十条 规定了会议的程序。信息内容见附件。".encode(), "notice.txt")


def test_blank_rows_of_a_table_whose_sums_fail_stay_flagged() -> None:
    rows = sample_t3(new=5, carried=1)
    lines = _pipes(rows)
    lines[T3_KEYS_2021.index("granted")] = T3_LABELS_2021[T3_KEYS_2021.index("granted")]  # its values were lost
    result = _read(report_2021(lines))
    assert result.fields["t3.granted.natural"].value == 0
    assert "t3.granted.natural" in result.flat()["flags"]


def test_a_page_that_starts_inside_table_2_reads_its_first_rows() -> None:
    # one page of a flip-book: it opens on a column header of table 2, with no heading and no article
    # line above it; the article line that anchors the table comes a few rows later
    text = report_2021(_pipes(sample_t3()))
    cut = text.index("信息内容 | 本年处理决定数量\n行政处罚")
    page = text[cut:].replace("行政处罚 | 7", "行政处罚 | 58")
    values = _read(page).values()
    assert values["t2.penalty.decisions"] == 58 and values["t2.coercion.decisions"] == 0
    assert values["t2.fees.amount"] == 0 and values["t3.granted.natural"] == 4


def test_a_taiwan_vocabulary_mirror_reads_like_the_mainland_page() -> None:
    # a wiki mirror converted the page to Taiwan usage: words swapped (文件→檔案, 信息→資訊), not only
    # characters; the labels still name their rows and every offset still points at the page
    text = report_2021(_pipes(sample_t3()))
    mirror = text.replace("文件", "檔案").replace("信息", "資訊").replace("数据", "資料")
    assert "文件" not in mirror and "信息" not in mirror
    result = _read(mirror)
    assert result.values()["t2.normative.in_force"] == 20
    assert result.values()["t3.granted.natural"] == 4
    span = result.fields["t2.normative.in_force"].span
    assert span is not None and mirror[span[0] : span[1]] == "20"


@pytest.mark.parametrize("label_apart", [False, True])
def test_a_page_that_starts_inside_table_3_reads_the_rows_above_the_first_it_knows(label_apart: bool) -> None:
    # one page of a flip-book opens at (三)5, with no heading: table 3 is found by a later row ((四)1
    # 不掌握), and the rows printed above that one are its rows too, on their own lines or beside labels
    rows = sample_t3(new=6, carried=0)
    rows["granted"] = [1, 0, 0, 0, 0, 0, 1]
    rows["denied_process"] = [4, 0, 0, 0, 0, 0, 4]
    separator = "\n" if label_apart else " "
    lines = [
        f"{label}{separator}{' '.join(str(v) for v in rows[key])}"
        for key, label in zip(T3_KEYS_2021, T3_LABELS_2021, strict=True)
    ]
    first = T3_KEYS_2021.index("denied_internal")
    page = "\n".join(lines[first:]) + "\n四、政府信息公开行政复议、行政诉讼情况\n"
    values = _read(page).values()
    assert values["t3.denied_process.natural"] == 4 and values["t3.denied_process.total"] == 4
    assert values["t3.denied_internal.total"] == 0 and values["t3.denied_query.total"] == 0
    assert "t3.granted.natural" not in values  # not on the page: never invented


@pytest.mark.parametrize("first", ["行政强制", "行政事业性收费"])
def test_a_page_that_starts_on_the_last_rows_of_table_2_reads_them(first: str) -> None:
    # the page opens on a row of table 2 with no header above it: before the next article line
    # (第二十条第(八)项), or right before table 3's heading when no article line follows
    text = report_2021(_pipes(sample_t3())).replace("行政强制 | 0", "行政强制 | 6")
    page = text[text.index(first + " | ") :]
    values = _read(page).values()
    if first == "行政强制":
        assert values["t2.coercion.decisions"] == 6
    assert values["t2.fees.amount"] == 0 and values["t3.granted.natural"] == 4
    assert "t2.penalty.decisions" not in values  # printed above the page: never invented


def _blank_totals(rows: dict[str, list[int | str]], keys: list[str]) -> dict[str, list[int | str]]:
    for key in keys:
        rows[key] = [*rows[key][:-1], "—"]  # the publisher printed the row but left its total blank
    return rows


def _three_results() -> dict[str, list[int | str]]:
    """A consistent table 3 with three result rows and two applicant columns."""
    rows: dict[str, list[int | str]] = dict(sample_t3(new=9, carried=0))  # type: ignore[arg-type]
    rows["new_received"] = [8, 1, 0, 0, 0, 0, 9]
    rows["granted"] = [4, 1, 0, 0, 0, 0, 5]
    rows["partial"] = [2, 0, 0, 0, 0, 0, 2]
    rows["unable_not_held"] = [2, 0, 0, 0, 0, 0, 2]
    rows["total"] = [8, 1, 0, 0, 0, 0, 9]
    rows["carried_forward"] = [0, 0, 0, 0, 0, 0, 0]
    return rows


def test_blank_totals_the_sums_determine_are_one_note_and_keep_their_printed_zero() -> None:
    rows = _three_results()
    blanks = ["granted", "partial", "unable_not_held"]
    result = _read(report_2021(_pipes(_blank_totals(rows, blanks))))
    flags = result.flat()["flags"]
    for key, implied in zip(blanks, (5, 2, 2), strict=True):
        cell = result.fields[f"t3.{key}.total"]
        assert (cell.value, cell.status) == (0, "blank")  # as printed: a blank counts 0, never overwritten
        assert flags[cell.key] == [next(r for r in cell.reasons if "likely left so by the publisher" in r)]
        assert f"= {implied} — inferred, not read" in flags[cell.key][0]
    # one note for the table, and one group on the review page: a reviewer clears it once
    assert [n for n in result.notes if "3 cells shown blank" in n and "3 values inferred" in n]
    assert len(group_flags({k: v for k, v in flags.items() if k.startswith("t3.")})) == 1
    # the cells beside the blanks add up once the blanks are filled: nothing else of table 3 is in doubt
    assert not {k for k in flags if k.startswith("t3.")} - {f"t3.{key}.total" for key in blanks}


def test_blanks_the_sums_do_not_determine_keep_their_own_flags() -> None:
    rows = _three_results()
    rows["new_received"] = [8, 1, 0, 0, 0, 0, 10]  # a printed total no blank can mend
    result = _read(report_2021(_pipes(_blank_totals(rows, ["granted", "partial"]))))
    assert not [n for n in result.notes if "cells shown blank" in n]
    assert all("likely left so by the publisher" not in r for f in result.fields.values() for r in f.reasons)
    assert {"t3.granted.total", "t3.partial.total"} <= result.flat()["flags"].keys()


def test_blanks_in_several_rows_and_columns_are_not_one_group() -> None:
    # a misread cell between blanks of its row and of its column could be absorbed by both fills;
    # only blanks in one column (or one row) are grouped, so here every cell keeps its own flags
    rows = _three_results()
    rows["granted"] = [4, "—", 0, 0, 0, 0, "—"]
    rows["partial"] = [2, 0, 0, 0, 0, 0, "—"]
    result = _read(report_2021(_pipes(rows)))
    assert not [n for n in result.notes if "cells shown blank" in n]
    assert {"t3.granted.total", "t3.partial.total", "t3.granted.commercial"} <= result.flat()["flags"].keys()


def test_blanks_of_one_row_the_column_sums_determine_are_one_group() -> None:
    rows = _three_results()
    rows["granted"] = ["—", "—", 0, 0, 0, 0, 5]  # the row's applicant cells left blank, its total printed
    result = _read(report_2021(_pipes(rows)))
    (note,) = [n for n in result.notes if "cells shown blank" in n]
    assert "2 cells shown blank (row (一)予以公开)" in note
    flags = result.flat()["flags"]
    assert {k for k in flags if k.startswith("t3.")} == {"t3.granted.natural", "t3.granted.commercial"}
    assert [f.value for f in (result.fields["t3.granted.natural"], result.fields["t3.granted.commercial"])] == [0, 0]
