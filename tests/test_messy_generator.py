"""evals.messy: Word, PDF and scanned reports whose content and gold agree by construction.

Each test opens the produced file with the library a reader would use
(python-docx, pdfplumber, Pillow) and checks that the printed values are
the gold values in the right places, and that the gold itself is
consistent (evals.synth's identity checker).
"""

from __future__ import annotations

import io
import random
import re
from functools import cache
from pathlib import Path

import docx
import numpy as np
import pdfplumber
import pytest
from PIL import Image

from evals.gold import load_cases
from evals.messy import generate
from evals.messy.__main__ import main
from evals.messy.content import build_report
from evals.messy.kangxi import KANGXI_TWIN
from evals.messy.pdf import MARGIN_X, TEXT_W, Style, print_pdf
from evals.messy.scan import render_pages
from evals.synth import Document
from evals.synth.values import (
    T3_COLS,
    T4_KEYS,
    Number,
    broken_identities,
    field_keys,
    random_values,
    t3_rows,
)

SEED = 3
COUNT = 4


@cache
def docs(channel: str, count: int = COUNT, dpi: int = 200, fmt: str = "pdf") -> tuple[Document, ...]:
    return tuple(generate(channel, SEED, count, dpi, fmt))  # type: ignore[arg-type]


def _printed(value: Number) -> str:
    return repr(value) if isinstance(value, float) else str(value)


def _pdf_lines(body: bytes) -> list[list[str]]:
    """Text lines of each page, as pdfplumber reads the text layer."""
    with pdfplumber.open(io.BytesIO(body)) as pdf:
        return [(page.extract_text() or "").splitlines() for page in pdf.pages]


_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


def _trailing_numbers(line: str, n: int) -> tuple[str, ...] | None:
    tokens = line.split()
    tail = tokens[-n:]
    return tuple(tail) if len(tail) == n and all(_NUMBER.match(t) for t in tail) else None


def _check_pdf_values(doc: Document) -> None:
    """Every table-3 row and the table-4 row appear as a line ending in exactly their gold values."""
    lines = [line for page in _pdf_lines(doc.body) for line in page]
    sevens = {_trailing_numbers(line, 7) for line in lines}
    for row in t3_rows(doc.template, doc.merged_other):
        expected = tuple(_printed(doc.fields[f"t3.{row}.{c}"]) for c in T3_COLS)
        assert expected in sevens, f"{doc.name}: row {row} {expected} not printed"
    fifteen = {_trailing_numbers(line, 15) for line in lines}
    assert tuple(_printed(doc.fields[k]) for k in T4_KEYS) in fifteen


# ---------------------------------------------------------------------------
# Gold
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("channel", ["docx", "pdf", "pdf-kangxi", "pdf-plain"])
def test_gold_is_complete_and_consistent_except_the_injected_mistake(channel: str) -> None:
    generated = docs(channel)
    assert any(d.mistake for d in generated) and any(not d.mistake for d in generated)
    for d in generated:
        assert list(d.fields) == list(field_keys(d.template, d.merged_other))  # a complete report shows every cell
        broken = broken_identities(d.fields, d.template, d.merged_other)
        if d.mistake is None:
            assert broken == [], d.name
        else:
            assert broken and all(d.mistake in ident.keys for ident in broken), d.name
            assert d.mistake in str(d.gold["notes"])


def test_same_seed_gives_the_same_reports_in_every_channel() -> None:
    golds = {channel: [d.fields for d in docs(channel)] for channel in ("docx", "pdf", "pdf-kangxi")}
    assert golds["docx"] == golds["pdf"] == golds["pdf-kangxi"]


# ---------------------------------------------------------------------------
# Word
# ---------------------------------------------------------------------------


def test_docx_tables_are_merged_word_tables_holding_the_gold_values() -> None:
    for d in docs("docx"):
        word = docx.Document(io.BytesIO(d.body))
        assert len(word.tables) == 3
        assert any("二、主动公开政府信息情况" in p.text for p in word.paragraphs)
        t3 = word.tables[1]
        rows = t3_rows(d.template, d.merged_other)
        assert len(t3.rows) == 3 + len(rows)
        for i, row in enumerate(rows):
            cells = t3.rows[3 + i].cells
            printed = [cells[3 + j].text for j in range(len(T3_COLS))]
            gold = [d.fields[f"t3.{row}.{c}"] for c in T3_COLS]
            for text, value in zip(printed, gold, strict=True):
                assert text == _printed(value) or (text == "" and value == 0), (d.name, row, printed, gold)
        xml = t3._tbl.xml
        assert 'w:vMerge w:val="restart"' in xml  # 三、本年度办理结果 and (三)… merged down their rows
        assert "w:gridSpan" in xml  # header and label cells merged across
        group = t3.cell(5, 0)
        assert group.text == t3.cell(5 + 5, 0).text and "本年度办理结果" in group.text
        t4 = word.tables[2]
        assert [t4.rows[3].cells[i].text or "0" for i in range(15)] == [_printed(d.fields[k]) for k in T4_KEYS]


# ---------------------------------------------------------------------------
# PDF
# ---------------------------------------------------------------------------


def test_pdf_text_layer_holds_every_table_value_and_page_footers() -> None:
    generated = docs("pdf")
    for d in generated:
        _check_pdf_values(d)
        pages = _pdf_lines(d.body)
        for n, page in enumerate(pages, 1):
            assert page[-1].replace(" ", "") in {f"-{n}-", f"第{n}页共{len(pages)}页"}
    with pdfplumber.open(io.BytesIO(generated[0].body)) as pdf:
        assert any(page.rects for page in pdf.pages)  # ruled grid


def test_a_table_crossing_a_page_repeats_its_header_rows() -> None:
    split = [d for d in docs("pdf") if "t3 continues on the next page" in str(d.gold["notes"])]
    assert split, "no generated PDF splits a table across pages"
    for d in split:
        pages_with_header = [i for i, page in enumerate(_pdf_lines(d.body)) if any("申请人情况" in x for x in page)]
        assert len(pages_with_header) >= 2, d.name


def test_table_three_taller_than_a_page_is_always_split_and_its_vertical_label_printed_once() -> None:
    """Rows of at least 28 pt make table 3 (30+ rows) taller than A4, wherever it starts."""
    rng = random.Random(11)
    report = build_report(random_values(rng, "2021"), rng)
    printed = print_pdf(report, Style(min_row=28.0, table_size=10.5, body_size=16.0, vertical_subgroups=True))
    assert "t3" in printed.split_tables
    pages = _pdf_lines(printed.body)
    assert sum(any("申请人情况" in x for x in page) for page in pages) >= 2
    # 三、本年度办理结果 stands in the first column one character per line, top to bottom, across the break
    centre = MARGIN_X + 0.045 * TEXT_W / 2  # middle of table 3's first column
    column: list[str] = []
    with pdfplumber.open(io.BytesIO(printed.body)) as pdf:
        for page in pdf.pages:
            inside = [
                c for c in page.chars if abs((c["x0"] + c["x1"]) / 2 - centre) < 1.5 and round(c["size"], 1) == 10.5
            ]
            column.extend(c["text"] for c in sorted(inside, key=lambda c: c["top"]))
    in_column = "".join(column)  # may also hold a bracket of a centred header line
    assert "三、本年度办理结果" in in_column and in_column.count("度") == 1


def test_plain_pdf_has_aligned_columns_and_no_ruling_lines() -> None:
    for d in docs("pdf-plain"):
        _check_pdf_values(d)
        with pdfplumber.open(io.BytesIO(d.body)) as pdf:
            assert not any(page.rects or page.lines for page in pdf.pages)


def test_pdf_with_blank_zeros_prints_only_the_non_zero_values_and_keeps_the_gold() -> None:
    blank = generate("pdf", SEED, COUNT, blanks="all")
    for d, same in zip(blank, docs("pdf"), strict=True):
        assert d.fields == same.fields  # an empty cell is 0 in gold (FIELDS.md)
        assert "every zero printed as an empty cell" in str(d.gold["notes"])
        lines = [line for page in _pdf_lines(d.body) for line in page]
        for row in t3_rows(d.template, d.merged_other):
            shown = tuple(_printed(v) for c in T3_COLS if (v := d.fields[f"t3.{row}.{c}"]) != 0)
            if shown:
                assert any(_trailing_numbers(line, len(shown)) == shown for line in lines), (d.name, row)
        t3_start = next(i for i, line in enumerate(lines) if "申请人情况" in line)
        t3_end = next(i for i, line in enumerate(lines) if "结转下年度继续办理" in line)
        assert not any(" 0" in line for line in lines[t3_start : t3_end + 1])


def test_kangxi_pdf_labels_read_as_radicals_while_values_stay_plain() -> None:
    for d in docs("pdf-kangxi"):
        text = "\n".join(line for page in _pdf_lines(d.body) for line in page)
        assert "\u2f8f政" in text  # ⾏政许可 / ⾏政处罚
        assert "\u2f00" in text  # ⼀、本年新收… / 第⼀项
        assert "第\u2f06\u2f17条" in text  # 第⼆⼗条
        assert "行政许可" not in text  # no table label escaped the Kangxi font
        assert "行政" in text  # narrative prose keeps ordinary characters
        _check_pdf_values(d)
    assert KANGXI_TWIN["行"] == "\u2f8f" and KANGXI_TWIN["人"] == "\u2f08"


# ---------------------------------------------------------------------------
# Scans
# ---------------------------------------------------------------------------


def test_scan_is_an_image_only_pdf_at_the_requested_dpi_with_a_red_seal() -> None:
    (d,) = docs("scan", 1, 150)
    red_pixels = 0
    with pdfplumber.open(io.BytesIO(d.body)) as pdf:
        assert len(pdf.pages) >= 2
        for page in pdf.pages:
            assert page.chars == []  # no text layer
            (image,) = page.images
            assert abs(image["srcsize"][0] / (float(page.width) / 72) - 150) < 2
            pixels = np.asarray(Image.open(io.BytesIO(image["stream"].get_data())).convert("RGB"), dtype=int)
            red_pixels += int(((pixels[..., 0] > 150) & (pixels[..., 1] < 110) & (pixels[..., 2] < 110)).sum())
    assert red_pixels > 500  # the seal's red ink is on one of the pages


def test_pdfium_draws_the_non_embedded_cjk_font() -> None:
    """The scans are rendered by pdfium from STSong-Light, which the PDF does not embed: the
    title line (CJK only, no digits but the year) must come out as ink, not as an empty page."""
    d = docs("pdf")[0]
    (page, *_rest) = render_pages(d.body, 72)
    title_band = np.asarray(page.convert("L"))[40:110, :] < 128
    assert title_band.sum() > 300


def test_scan_as_tiff_keeps_one_frame_per_page_and_the_dpi() -> None:
    (d,) = docs("scan", 1, 150, "tiff")
    assert d.ext == "tiff"
    img = Image.open(io.BytesIO(d.body))
    assert getattr(img, "n_frames", 1) >= 2
    assert round(float(img.info["dpi"][0])) == 150


# ---------------------------------------------------------------------------
# CLI and scorer
# ---------------------------------------------------------------------------


def test_cli_writes_pairs_that_the_scorer_picks_up(tmp_path: Path) -> None:
    assert main(["--channel", "docx", "--seed", "5", "--count", "2", "--out", str(tmp_path)]) == 0
    assert main(["--channel", "pdf", "--seed", "5", "--count", "2", "--out", str(tmp_path)]) == 0
    cases = load_cases(tmp_path)
    assert sorted(c.document.name for c in cases) == [
        "messy-docx-1.docx",
        "messy-docx-2.docx",
        "messy-pdf-1.pdf",
        "messy-pdf-2.pdf",
    ]
    for case in cases:
        assert case.gold["doc"] == case.name and case.gold["fields"]


def test_cli_refuses_a_dpi_outside_the_scanner_range(tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        main(["--channel", "scan", "--dpi", "600", "--out", str(tmp_path)])
