"""The PDF reader rebuilds tables from where things were printed, not from the content stream's order.

Fixtures are drawn with reportlab's built-in CID font (STSong-Light, no font file): table 3 of a
report, ruled and unruled, with its row-group label printed vertically one character per line,
labels wrapped over two lines, a table cut by a page break with its header repeated and a page
number between, and bad files (locked, blank, too long).
"""

from __future__ import annotations

import io
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import pytest

from extractor.ingest import IngestError, load_bytes
from extractor.ingest.pages import box_for
from extractor.ingest.pdf import pdf_document
from extractor.ingest.pdf_aligned import aligned_blocks
from extractor.ingest.pdf_grid import Grid
from extractor.ingest.pdf_text import Glyph, cell_text, fold, glyphs_of, group_lines, is_page_number
from extractor.pipeline import extract

FONT = "STSong-Light"
# How a drawn table is ruled: every cell (True), rows and frame only ("rows"), not at all (False)
Ruling = bool | Literal["rows"]
PAGE_W, PAGE_H = 595.0, 842.0
SIZE = 9.0
COLUMNS = ("natural", "commercial", "research", "social", "legal", "other_org", "total")
HEADER = ("自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", "总计")
GROUP = "三、本年度办理结果"
# (key, label) of table 3, template 2021; labels are wrapped by the label column's width
ROWS = (
    ("new_received", "一、本年新收政府信息公开申请数量"),
    ("carried_over", "二、上年结转政府信息公开申请数量"),
    ("granted", "（一）予以公开"),
    ("partial", "（二）部分公开（区分处理的，只计这一情形，不计其他情形）"),
    ("denied_state_secret", "（三）不予公开 1.属于国家秘密"),
    ("denied_law_forbidden", "2.其他法律行政法规禁止公开"),
    ("denied_three_safety", "3.危及“三安全一稳定”"),
    ("denied_third_party", "4.保护第三方合法权益"),
    ("denied_internal", "5.属于三类内部事务信息"),
    ("denied_process", "6.属于四类过程性信息"),
    ("denied_enforcement", "7.属于行政执法案卷"),
    ("denied_query", "8.属于行政查询事项"),
    ("unable_not_held", "（四）无法提供 1.本机关不掌握相关政府信息"),
    ("unable_need_creation", "2.没有现成信息需要另行制作"),
    ("unable_unclear", "3.补正后申请内容仍不明确"),
    ("rejected_complaint", "（五）不予处理 1.信访举报投诉类申请"),
    ("rejected_duplicate", "2.重复申请"),
    ("rejected_publication", "3.要求提供公开出版物"),
    ("rejected_excessive", "4.无正当理由大量反复申请"),
    ("rejected_confirm", "5.要求行政机关确认或重新出具已获取信息"),
    ("other_overdue_correction", "（六）其他处理 1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请"),
    ("other_overdue_fee", "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请"),
    ("other_misc", "3.其他"),
    ("total", "（七）总计"),
    ("carried_forward", "四、结转下年度继续办理"),
)
IN_GROUP = {key for key, _ in ROWS[2:-1]}  # the rows the vertical group label spans
# columns (points from the left): the group label, the row label, seven numbers
X_GROUP, X_LABEL, X_VALUES, VALUE_W = 40.0, 74.0, 254.0, 44.0
LABEL_CHARS = 18  # a label wraps after this many characters
LINE = 11.0
PAD = 4.0


def table3_values(seed: int) -> dict[str, dict[str, int]]:
    """Values whose sums hold, as a real table 3's do."""
    rng = random.Random(seed)
    rows: dict[str, dict[str, int]] = {}
    for key, _ in ROWS:
        if key in ("new_received", "carried_over", "total", "carried_forward"):
            continue
        cells = {c: rng.choice((0, 0, 0, rng.randint(1, 40))) for c in COLUMNS[:-1]}
        rows[key] = {**cells, "total": sum(cells.values())}
    total = {c: sum(rows[k][c] for k in rows) for c in COLUMNS}
    carried = {c: rng.randint(0, 3) for c in COLUMNS[:-1]}
    carried["total"] = sum(carried.values())
    forward = {c: rng.randint(0, 2) for c in COLUMNS[:-1]}
    forward["total"] = sum(forward.values())
    new = {c: total[c] + forward[c] - carried[c] for c in COLUMNS}
    if any(v < 0 for v in new.values()):
        return table3_values(seed + 1)
    return {"new_received": new, "carried_over": carried, **rows, "total": total, "carried_forward": forward}


@dataclass
class Sheet:
    """A reportlab canvas drawn in top-left coordinates, page by page."""

    canvas: object
    page: int = 1

    def text(self, x: float, top: float, text: str, size: float = SIZE) -> None:
        self.canvas.setFont(FONT, size)  # type: ignore[attr-defined]
        self.canvas.drawString(x, PAGE_H - top - size, text)  # type: ignore[attr-defined]

    def rule(self, x0: float, top0: float, x1: float, top1: float) -> None:
        self.canvas.line(x0, PAGE_H - top0, x1, PAGE_H - top1)  # type: ignore[attr-defined]

    def new_page(self, footer: bool) -> None:
        if footer:
            self.text(PAGE_W / 2 - 10, PAGE_H - 40, f"- {self.page} -", 8)
        self.canvas.showPage()  # type: ignore[attr-defined]
        self.page += 1


def _wrap(label: str) -> list[str]:
    return [label[i : i + LABEL_CHARS] for i in range(0, len(label), LABEL_CHARS)]


def _rows_height(keys: list[str]) -> float:
    return sum(len(_wrap(dict(ROWS)[k])) * LINE + 2 * PAD for k in keys)


def draw_report(
    values: dict[str, dict[str, int]],
    ruled: Ruling,
    break_after: tuple[str, ...] = (),
    top: float = 60.0,
    blank_zeros: bool = False,
    repeat_header: bool = True,
) -> bytes:
    """A short report: title, table 3 (header, rows, vertical group label); `break_after` cuts the
    table after those rows, repeats the header on each next page and prints page numbers;
    `blank_zeros` prints every zero as an empty cell; `repeat_header` False prints the header once."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    out = io.BytesIO()
    sheet = Sheet(canvas.Canvas(out, pagesize=(PAGE_W, PAGE_H), invariant=True))
    sheet.text(40, top - 40, "某某市人民政府2024年政府信息公开工作年度报告", 12)
    sheet.text(40, top - 20, "三、收到和处理政府信息公开申请情况")
    keys = [k for k, _ in ROWS]
    cuts = [keys.index(key) + 1 for key in break_after]
    parts = [keys[a:b] for a, b in zip([0, *cuts], [*cuts, len(keys)], strict=True)]
    for number, part in enumerate(parts):
        if number:
            sheet.new_page(footer=True)
            top = 60.0
        y = _draw_header(sheet, top, ruled) if repeat_header or not number else top
        _draw_rows(sheet, values, part, y, ruled, group_label=number == 0, blank_zeros=blank_zeros)
    if cuts:
        sheet.text(PAGE_W / 2 - 10, PAGE_H - 40, f"- {sheet.page} -", 8)
    sheet.canvas.save()  # type: ignore[attr-defined]
    return out.getvalue()


def _value_rules(ruled: Ruling) -> tuple[float, ...]:
    """Where vertical rules stand right of the labels: every column's, or (`rows`) the frame's only."""
    right = X_VALUES + len(COLUMNS) * VALUE_W
    if ruled == "rows":
        return (X_VALUES, right)
    return (X_VALUES, *(X_VALUES + i * VALUE_W for i in range(1, len(COLUMNS) + 1)))


def _draw_header(sheet: Sheet, top: float, ruled: Ruling) -> float:
    bottom = top + LINE + 2 * PAD
    for index, word in enumerate(HEADER):
        sheet.text(X_VALUES + index * VALUE_W + 2, top + PAD, word, 6)
    if ruled:
        right = X_VALUES + len(COLUMNS) * VALUE_W
        sheet.rule(X_GROUP, top, right, top)
        for x in (X_GROUP, *_value_rules(ruled)):
            sheet.rule(x, top, x, bottom)
    return bottom


def _draw_rows(
    sheet: Sheet,
    values: dict[str, dict[str, int]],
    keys: list[str],
    top: float,
    ruled: Ruling,
    group_label: bool,
    blank_zeros: bool = False,
) -> None:
    """The rows; the group label is printed in the first part of its cell only, as a word processor does."""
    right = X_VALUES + len(COLUMNS) * VALUE_W
    labels = dict(ROWS)
    group = [k for k in keys if k in IN_GROUP]
    group_top = top + _rows_height(keys[: keys.index(group[0])]) if group else 0.0
    y = top
    for key in keys:
        lines = _wrap(labels[key])
        height = len(lines) * LINE + 2 * PAD
        in_group = key in IN_GROUP
        label_x = X_LABEL if in_group else X_GROUP
        for i, line in enumerate(lines):
            sheet.text(label_x + 3, y + PAD + i * LINE, line)
        middle = y + height / 2 - SIZE / 2
        for index, column in enumerate(COLUMNS):
            if values[key][column] or not blank_zeros:
                sheet.text(X_VALUES + index * VALUE_W + 6, middle, str(values[key][column]))
        if ruled:
            sheet.rule(X_LABEL if in_group and key != group[0] else X_GROUP, y, right, y)
            sheet.rule(X_GROUP, y, X_GROUP, y + height)
            if in_group:
                sheet.rule(X_LABEL, y, X_LABEL, y + height)
            for x in _value_rules(ruled):
                sheet.rule(x, y, x, y + height)
        y += height
    if ruled:
        sheet.rule(X_GROUP, y, right, y)
    if group and group_label:
        span = _rows_height(group)
        chars = [GROUP[:2], *GROUP[2:]]  # "三、" on one line, then one character a line
        first = group_top + span / 2 - len(chars) * LINE / 2
        for i, char in enumerate(chars):
            sheet.text(X_GROUP + 8, first + i * LINE, char)


def table_rows(text: str) -> list[list[str]]:
    return [[c.strip() for c in line.strip()[1:-1].split(" | ")] for line in text.splitlines() if line.startswith("| ")]


def row_for(rows: list[list[str]], label_start: str) -> list[str]:
    return next(r for r in rows if any(c.startswith(label_start) for c in r))


def expected_numbers(values: dict[str, dict[str, int]], key: str) -> list[str]:
    return [str(values[key][c]) for c in COLUMNS]


@pytest.fixture(scope="module")
def values() -> dict[str, dict[str, int]]:
    return table3_values(3)


@pytest.mark.parametrize("ruled", [True, "rows", False], ids=["ruled", "rows-ruled", "aligned"])
def test_table_rows_come_out_as_pipe_rows(values: dict[str, dict[str, int]], ruled: Ruling) -> None:
    flat, how = pdf_document(draw_report(values, ruled))
    assert how == "pdf-text-layer"
    rows = table_rows(flat.text)
    for key, label in ROWS:
        row = row_for(rows, label[:6])
        assert row[-7:] == expected_numbers(values, key), (key, row)
    # a label wrapped over two lines is one cell
    assert "（二）部分公开（区分处理的，只计这一情形，不计其他情形）" in row_for(rows, "（二）部分公开")
    # the vertical group label is one cell, written once
    assert flat.text.count("本年度办理结果") == 1
    assert sum(GROUP in row for row in rows) == 1
    # the header's words are cells of one row
    assert row_for(rows, "自然人")[-7:] == list(HEADER)


def test_ruled_group_label_starts_where_its_cell_starts(values: dict[str, dict[str, int]]) -> None:
    rows = table_rows(pdf_document(draw_report(values, ruled=True))[0].text)
    assert row_for(rows, "（一）予以公开")[:2] == [GROUP, "（一）予以公开"]
    assert row_for(rows, "（二）部分公开")[0].startswith("（二）部分公开")  # the covered position is skipped


@pytest.mark.parametrize("ruled", [True, False], ids=["ruled", "aligned"])
@pytest.mark.parametrize("breaks", [("denied_internal",), ("denied_internal", "rejected_duplicate")])
def test_a_table_cut_by_page_breaks_is_carried_on(
    values: dict[str, dict[str, int]], ruled: bool, breaks: tuple[str, ...]
) -> None:
    flat, _ = pdf_document(draw_report(values, ruled, break_after=breaks, top=560.0))
    assert [p.number for p in flat.pages] == list(range(1, len(breaks) + 2))
    rows = table_rows(flat.text)
    assert sum(row[-7:] == list(HEADER) for row in rows) == 1  # the repeated header is dropped
    assert not any(line.startswith("- ") for line in flat.text.splitlines())  # no page numbers
    table = [r for r in rows if r[-7:] != list(HEADER)]
    assert [r[-7:] for r in table] == [expected_numbers(values, k) for k, _ in ROWS]
    after_break = row_for(rows, "6.属于四类过程性信息")
    assert after_break[0] == "6.属于四类过程性信息"  # no empty piece of the cut group cell


def test_every_cell_has_its_box_and_every_page_its_picture(values: dict[str, dict[str, int]]) -> None:
    flat, _ = pdf_document(draw_report(values, ruled=True))
    page = flat.pages[0]
    assert (page.number, page.width, page.height) == (1, PAGE_W, PAGE_H)
    assert page.image is not None and page.image.startswith(b"\x89PNG")
    line = next(line for line in flat.text.splitlines() if "（一）予以公开" in line)
    start = flat.text.index(line)
    value = str(values["granted"]["natural"])
    cell = start + line.index(f" | {value} | ") + 3
    box = box_for(flat.boxes, (cell, cell + len(value)))
    assert box is not None and box.page == 1
    assert X_VALUES - 1 <= box.x0 < box.x1 <= X_VALUES + VALUE_W + 1  # inside the 自然人 column


@pytest.mark.parametrize("ruled", [True, False], ids=["ruled", "aligned"])
def test_the_pipeline_reads_every_value_without_flags(values: dict[str, dict[str, int]], ruled: bool) -> None:
    data = draw_report(values, ruled, break_after=("unable_unclear",), top=420.0)
    extraction = extract(load_bytes(data, "report.pdf"))
    flat = extraction.flat()
    expected = {f"t3.{key}.{column}": values[key][column] for key, _ in ROWS for column in COLUMNS}
    read = {key: flat["fields"].get(key) for key in expected}
    wrong = {key: (read[key], value) for key, value in expected.items() if read[key] != value}
    assert not wrong
    flagged = [key for key in expected if key in flat["flags"]]
    assert len(flagged) <= 2, flagged


def test_unruled_empty_cells_stay_in_their_columns(values: dict[str, dict[str, int]]) -> None:
    """Zeros printed as nothing: every number stays under its header, every blank is an empty cell."""
    flat, _ = pdf_document(draw_report(values, False, blank_zeros=True))
    rows = table_rows(flat.text)
    assert any(0 in values[key].values() for key, _ in ROWS)
    for key, label in ROWS:
        row = row_for(rows, label[:6])
        assert row[-7:] == [str(values[key][c]) if values[key][c] else "" for c in COLUMNS], (key, row)
    assert row_for(rows, "自然人")[-7:] == list(HEADER)


def test_an_unruled_table_with_no_number_is_rows_of_empty_cells() -> None:
    """A table whose every value is a blank zero: its columns come from the header alone."""
    zeros = {key: dict.fromkeys(COLUMNS, 0) for key, _ in ROWS}
    flat, _ = pdf_document(draw_report(zeros, False, blank_zeros=True))
    rows = table_rows(flat.text)
    for _, label in ROWS:
        row = row_for(rows, label[:6])
        assert row[-7:] == [""] * 7 and row[-8].strip(), (label, row)


def test_the_pipeline_reads_blank_zeros_of_an_unruled_table(values: dict[str, dict[str, int]]) -> None:
    data = draw_report(values, False, break_after=("unable_unclear",), top=420.0, blank_zeros=True)
    flat = extract(load_bytes(data, "report.pdf")).flat()
    expected = {f"t3.{key}.{column}": values[key][column] for key, _ in ROWS for column in COLUMNS}
    read = {key: flat["fields"].get(key) for key in expected}
    assert not {key: (read[key], value) for key, value in expected.items() if read[key] != value}
    assert len([key for key in expected if key in flat["flags"]]) <= 2


def test_kangxi_radicals_read_as_the_ideographs_they_print() -> None:
    assert fold("⾏") == "行" and fold("⼀") == "一" and fold("（") == "（" and fold("1") == "1"
    chars = [
        {"text": t, "x0": 10.0 + 9 * i, "x1": 19.0 + 9 * i, "top": 10.0, "bottom": 19.0, "size": 9.0}
        for i, t in enumerate("⾏政许可")
    ]
    assert cell_text(glyphs_of(chars)) == "行政许可"


def _blank_pdf(pages: int, text: str | None = None, encrypt: bool = False) -> bytes:
    from reportlab.lib import pdfencrypt
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    out = io.BytesIO()
    lock = pdfencrypt.StandardEncryption("secret", "owner") if encrypt else None
    sheet = canvas.Canvas(out, pagesize=(PAGE_W, PAGE_H), invariant=True, encrypt=lock)
    for number in range(pages):
        if text:
            sheet.setFont(FONT, 10)
            sheet.drawString(40, 700, f"{text} 第{number + 1}页的内容")
        sheet.showPage()
    sheet.save()
    return out.getvalue()


def test_a_locked_pdf_is_refused_in_one_line() -> None:
    with pytest.raises(IngestError) as info:
        pdf_document(_blank_pdf(1, "政府信息公开工作年度报告", encrypt=True))
    assert info.value.code == "encrypted" and "\n" not in str(info.value)


def test_a_pdf_with_neither_text_nor_images_is_refused() -> None:
    with pytest.raises(IngestError) as info:
        pdf_document(_blank_pdf(2))
    assert info.value.code == "no_text_layer" and "\n" not in str(info.value)


@pytest.fixture
def two_page_limit(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("GONGKAI_MAX_PAGES", "2")
    yield


def test_pages_past_the_limit_are_skipped_with_a_note(two_page_limit: None) -> None:
    flat, _ = pdf_document(_blank_pdf(5, "政府信息公开工作年度报告正文"))
    assert [p.number for p in flat.pages] == [1, 2]
    assert "第2页" in flat.text and "第3页" not in flat.text
    assert len(flat.notes) == 1 and "2 of 5" in flat.notes[0]


def test_a_scanned_page_among_text_pages_is_named_in_a_note() -> None:
    from PIL import Image
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    out = io.BytesIO()
    sheet = canvas.Canvas(out, pagesize=(PAGE_W, PAGE_H), invariant=True)
    sheet.setFont(FONT, 10)
    for line in range(4):
        sheet.drawString(40, 700 - 14 * line, "政府信息公开工作年度报告：本页是文字，有文字层。")
    sheet.showPage()
    sheet.drawImage(ImageReader(Image.new("L", (60, 80), 128)), 40, 300, 300, 400)
    sheet.showPage()
    sheet.save()
    flat, how = pdf_document(out.getvalue())
    assert how == "pdf-text-layer" and "本页是文字" in flat.text
    assert [note for note in flat.notes if "page(s) 2 " in note]


def test_prose_between_two_unruled_tables_stays_running_text() -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    out = io.BytesIO()
    sheet = Sheet(canvas.Canvas(out, pagesize=(PAGE_W, PAGE_H), invariant=True))
    prose = "2024年，本机关共收到申请12件，其中3件已答复，另有1件结转下年度继续办理，均在法定期限内答复。"
    top = 60.0
    for block in range(2):
        for label, numbers in (("规章", (1, 0, 11)), ("行政规范性文件", (8, 26, 66)), ("其他文件", (None,) * 3)):
            sheet.text(60, top, label)
            for index, number in enumerate(numbers):
                sheet.text(260 + 80 * index, top, "—" if number is None else str(number + block))
            top += 20
        if not block:
            for _ in range(2):
                sheet.text(60, top, prose, 10)
                top += 16
    sheet.canvas.save()  # type: ignore[attr-defined]
    text = pdf_document(out.getvalue())[0].text
    lines = text.splitlines()
    assert [line for line in lines if prose in line] == [prose, prose]
    assert "| 规章 | 2 | 1 | 12 |" in lines and "| 行政规范性文件 | 8 | 26 | 66 |" in lines
    assert lines.count("| 其他文件 | — | — | — |") == 2  # a row of blank marks is a row of the table


def test_an_encrypted_pdf_without_a_password_is_read() -> None:
    """Locked against copying but not against opening: pdfminer cannot map its CJK font, pdfium can."""
    from reportlab.lib import pdfencrypt
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    out = io.BytesIO()
    lock = pdfencrypt.StandardEncryption("", "owner", canPrint=1, canCopy=0)
    sheet = canvas.Canvas(out, pagesize=(PAGE_W, PAGE_H), invariant=True, encrypt=lock)
    sheet.setFont(FONT, 10)
    sheet.drawString(40, 700, "政府信息公开工作年度报告")
    for row, (label, number) in enumerate((("行政许可", 12), ("行政处罚", 3))):
        sheet.drawString(40, 670 - 16 * row, label)
        sheet.drawString(240, 670 - 16 * row, str(number))
    sheet.save()
    text = pdf_document(out.getvalue())[0].text
    assert "cid:" not in text
    assert text.splitlines() == ["政府信息公开工作年度报告", "| 行政许可 | 12 |", "| 行政处罚 | 3 |"]


def test_a_line_printed_twice_on_the_same_spot_reads_once() -> None:
    """Fake bold: some producers print a heading twice, a hair apart."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    out = io.BytesIO()
    sheet = canvas.Canvas(out, pagesize=(PAGE_W, PAGE_H), invariant=True)
    sheet.setFont(FONT, 12)
    for shift in (0.0, 0.2):
        sheet.drawString(40 + shift, 700, "某某市人民政府2024年政府信息公开工作年度报告")
    sheet.save()
    assert pdf_document(out.getvalue())[0].text.splitlines() == ["某某市人民政府2024年政府信息公开工作年度报告"]


def type3_pdf(lines: list[tuple[float, float, str]]) -> bytes:
    """A one-page PDF printing `(x, y, text)` lines in a Type 3 font whose ToUnicode map gives each
    code the very character asked for: the way to put Kangxi-radical code points (`⾏` U+2F8F) in a
    text layer, as CJK fonts of real reports do (reportlab's CID font maps them to the ideograph)."""
    chars = sorted({c for _, _, text in lines for c in text})
    code = {c: i + 1 for i, c in enumerate(chars)}
    content = b"".join(
        f"BT /F1 10 Tf {x} {y} Td <{''.join(f'{code[c]:02x}' for c in text)}> Tj ET\n".encode() for x, y, text in lines
    )
    pairs = " ".join(f"<{code[c]:02x}> <{ord(c):04x}>" for c in chars)
    cmap = (
        "/CIDInit /ProcSet findresource begin 12 dict begin begincmap /CMapName /K def "
        f"1 begincodespacerange <00> <ff> endcodespacerange {len(chars)} beginbfchar {pairs} endbfchar "
        "endcmap CMapName currentdict /CMap defineresource pop end end"
    ).encode()
    glyph = b"500 0 0 0 450 700 d1 0 0 450 700 re f"

    def stream(body: bytes) -> bytes:
        return b"<< /Length %d >>\nstream\n" % len(body) + body + b"\nendstream"

    procs = " ".join(f"/g{code[c]} {7 + i} 0 R" for i, c in enumerate(chars))
    names = " ".join(f"/g{code[c]}" for c in chars)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        stream(content),
        (
            "<< /Type /Font /Subtype /Type3 /FontBBox [0 0 500 700] /FontMatrix [0.001 0 0 0.001 0 0]"
            f" /CharProcs << {procs} >> /Encoding << /Type /Encoding /Differences [1 {names}] >>"
            f" /FirstChar 1 /LastChar {len(chars)} /Widths [{' '.join('500' for _ in chars)}] /ToUnicode 6 0 R >>"
        ).encode(),
        stream(cmap),
        *(stream(glyph) for _ in chars),
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    out.write(b"".join(b"%010d 00000 n \n" % offset for offset in offsets))
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def test_labels_printed_with_kangxi_radicals_are_read() -> None:
    """Table 2 whose labels' 行 is U+2F8F: read as 行 the rows are found (the stream text missed them)."""
    k = "⾏"  # KANGXI RADICAL WALK ENCLOSURE, printed where 行 is meant
    rows = [
        ("某某县人民政府2024年政府信息公开工作年度报告",),
        ("二、主动公开政府信息情况",),
        ("第二十条第（⼀）项",),
        ("信息内容", "本年制发件数", "本年废止件数", f"现{k}有效件数"),
        ("规章", "1", "0", "5"),
        (f"{k}政规范性文件", "8", "2", "40"),
        ("第二十条第（五）项",),
        ("信息内容", "本年处理决定数量"),
        (f"{k}政许可", "120"),
        ("第二十条第（六）项",),
        ("信息内容", "本年处理决定数量"),
        (f"{k}政处罚", "33"),
        (f"{k}政强制", "4"),
    ]
    lines = [(40.0 + 150 * i, 780.0 - 22 * r, text) for r, row in enumerate(rows) for i, text in enumerate(row)]
    data = type3_pdf(lines)
    text = pdf_document(data)[0].text
    assert "⾏" not in text and "⼀" not in text
    assert "| 行政许可 | 120 |" in text.splitlines() and "第二十条第（一）项" in text
    fields = extract(load_bytes(data, "kangxi.pdf")).flat()["fields"]
    assert (fields.get("t2.licensing.decisions"), fields.get("t2.penalty.decisions")) == (120, 33)
    assert fields.get("t2.normative.in_force") == 40


@pytest.mark.parametrize(
    ("text", "furniture"),
    [
        ("- 4 -", True),
        ("— 12 —", True),
        ("第 3 页", True),
        ("第3页 共6页", True),
        ("共6页，第3页", True),
        ("3/6", True),
        ("Page 2 of 9", True),
        ("12", False),  # a bare number is a page number only if it counts the pages (pdf_layout)
        ("规章 1 0 11", False),
        ("2024年", False),
        ("0 |", False),
    ],
)
def test_page_numbers_are_told_from_content(text: str, furniture: bool) -> None:
    assert is_page_number(text) is furniture


def test_a_title_repeated_atop_every_page_stays_once() -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    out = io.BytesIO()
    sheet = Sheet(canvas.Canvas(out, pagesize=(PAGE_W, PAGE_H), invariant=True))
    title = "某某市人民政府2024年政府信息公开工作年度报告"
    for page in range(3):
        sheet.text(40, 30, title)
        sheet.text(40, 300, f"第{page + 1}部分：政府信息公开工作的正文内容，一行文字。")
        sheet.new_page(footer=True)
    sheet.canvas.save()  # type: ignore[attr-defined]
    lines = pdf_document(out.getvalue())[0].text.splitlines()
    assert lines.count(title) == 1 and lines[0] == title
    assert len([line for line in lines if "正文内容" in line]) == 3


def test_bare_page_numbers_go_but_a_bare_value_at_a_page_top_stays() -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    out = io.BytesIO()
    sheet = Sheet(canvas.Canvas(out, pagesize=(PAGE_W, PAGE_H), invariant=True))
    for page in range(3):
        sheet.text(40, 40, "37")  # a value printed one cell a line, the first on its page
        sheet.text(40, 300, f"第{page + 1}部分：政府信息公开工作的正文内容，一行文字。")
        sheet.text(PAGE_W / 2, PAGE_H - 40, str(page + 1))  # the page number, bare
        sheet.canvas.showPage()  # type: ignore[attr-defined]
    sheet.canvas.save()  # type: ignore[attr-defined]
    lines = pdf_document(out.getvalue())[0].text.splitlines()
    assert lines.count("37") == 3
    assert not {"1", "2", "3"} & set(lines)


def test_reading_stops_with_a_note_when_pages_use_up_their_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GONGKAI_PAGE_SECONDS", "0.000001")  # no page is read that fast
    flat, _ = pdf_document(_blank_pdf(3, "政府信息公开工作年度报告正文"))
    assert [p.number for p in flat.pages] == [1]
    assert len(flat.notes) == 1 and "stopped after page 1 of 3" in flat.notes[0]


def test_limits_ignore_values_that_would_lift_them(monkeypatch: pytest.MonkeyPatch) -> None:
    from extractor.ingest.limits import DEFAULT_MAX_PAGES, DEFAULT_PAGE_SECONDS, max_pages, page_seconds

    for bad in ("", "abc", "0", "-5"):
        monkeypatch.setenv("GONGKAI_MAX_PAGES", bad)
        monkeypatch.setenv("GONGKAI_PAGE_SECONDS", bad)
        assert (max_pages(), page_seconds()) == (DEFAULT_MAX_PAGES, DEFAULT_PAGE_SECONDS)
    monkeypatch.setenv("GONGKAI_MAX_PAGES", "12")
    assert max_pages() == 12


def _words(*placed: tuple[str, float, float]) -> list[Glyph]:
    """Glyphs of words printed at (text, x, top) in 9 pt: CJK a full em wide, digits half."""
    glyphs: list[Glyph] = []
    for text, x, top in placed:
        for char in text:
            width = SIZE if ord(char) > 0x2E80 else SIZE / 2
            glyphs.append(Glyph(char, x, top, x + width, top + SIZE, SIZE))
            x += width
    return glyphs


def _aligned_rows(glyphs: list[Glyph]) -> list[list[str]]:
    blocks = aligned_blocks(group_lines(glyphs), 1)
    grids = [b for b in blocks if isinstance(b, Grid)]
    assert len(grids) == 1, blocks
    return [[c.text for c in row if c is not None] for row in grids[0].rows]


# an unruled table: a label column and three columns of values, centred under their headers
_HEAD = [("项目", 60.0, 100.0), ("甲类", 200.0, 100.0), ("乙类", 280.0, 100.0), ("丙类", 360.0, 100.0)]


def test_an_unruled_row_keeps_its_blank_cells_in_their_columns() -> None:
    rows = _aligned_rows(
        _words(
            *_HEAD,
            ("一、第一项", 60, 120), ("5", 207, 120), ("7", 367, 120),
            ("二、第二项", 60, 140), ("12", 365, 140),
            ("三、第三项", 60, 160),
        )
    )  # fmt: skip
    assert rows[0] == ["项目", "甲类", "乙类", "丙类"]
    assert rows[1:] == [["一、第一项", "5", "", "7"], ["二、第二项", "", "", "12"], ["三、第三项", "", "", ""]]


def test_a_number_between_two_columns_is_left_for_the_reader_to_place() -> None:
    rows = _aligned_rows(
        _words(
            *_HEAD,
            ("一、第一项", 60, 120), ("5", 207, 120), ("3", 287, 120), ("7", 367, 120),
            ("二、第二项", 60, 140), ("123456", 236, 140),
        )
    )  # fmt: skip
    assert rows[1] == ["一、第一项", "5", "3", "7"]
    assert rows[2] == ["二、第二项", "123456"]  # no empty cell written: which column it is in is not known


def test_an_unruled_table_cut_without_its_header_keeps_its_columns_on_the_next_page(
    values: dict[str, dict[str, int]],
) -> None:
    """The next page's rows are read under the header printed on the page before."""
    data = draw_report(values, False, break_after=("unable_unclear",), blank_zeros=True, repeat_header=False)
    flat, _ = pdf_document(data)
    rows = table_rows(flat.text)
    for key, label in ROWS[ROWS.index(("unable_unclear", "3.补正后申请内容仍不明确")) + 1 :]:
        row = row_for(rows, label[:6])
        assert row[-7:] == [str(values[key][c]) if values[key][c] else "" for c in COLUMNS], (key, row)
    assert sum(row[-7:] == list(HEADER) for row in rows) == 1  # the header is written once
