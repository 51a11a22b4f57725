"""Scans: report tables drawn as page images, read back by OCR through the whole pipeline.

The pages are drawn from the gold of real reports (evals/data/real, hand-checked), so every number
OCR reads is checked against a value a person checked. Few pages are OCR'd (each costs seconds);
the rest (limits, errors, digit mending, the grid, deskew) runs without the OCR engine.
"""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from evals.ocr_render import degrade, font_available, png_bytes, report_pages, scanned_pdf
from evals.score import score
from extractor.ingest import IngestError, load_bytes, ocr_read
from extractor.ingest import scan as scan_module
from extractor.ingest.ocr_engine import TextBox
from extractor.ingest.ocr_grid import find_tables
from extractor.ingest.ocr_image import skew_angle
from extractor.ingest.ocr_layout import CountingBuilder, PageWriter, mend_digits
from extractor.ingest.ocr_lexicon import mend_wording
from extractor.ingest.pages import box_for
from extractor.pipeline import extract
from tests.services import require_service

GOLD = Path(__file__).resolve().parent.parent / "evals" / "data" / "real"


@pytest.fixture
def font() -> None:
    if not font_available():
        require_service("the Noto Sans CJK font is missing (apt install fonts-noto-cjk): scan pages cannot be drawn")


def _gold(name: str) -> dict[str, object]:
    return json.loads((GOLD / f"{name}.gold.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def _tiff(images: list[Image.Image]) -> bytes:
    buffer = io.BytesIO()
    images[0].save(buffer, format="TIFF", save_all=True, append_images=images[1:], compression="tiff_deflate")
    return buffer.getvalue()


@pytest.mark.usefixtures("font")
def test_a_scanned_pdf_of_a_real_reports_tables_reads_every_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GONGKAI_PAGE_SECONDS", "600")  # a loaded test machine is no reason to skip a page
    gold = _gold("real-pingtan-2025")
    pages = [degrade(page, angle=1.2, blur=0.6, seed=i) for i, page in enumerate(report_pages(gold, dpi=200))]
    doc = load_bytes(scanned_pdf(pages), "pingtan-2025-scan.pdf")
    assert doc.kind == "pdf" and doc.encoding == "ocr"
    assert [p.number for p in doc.pages] == [1, 2]
    assert all(Image.open(io.BytesIO(p.image or b"")).format == "PNG" for p in doc.pages)
    assert any(n.startswith("2 of 2 pages turned upright") and "+1.2°" in n for n in doc.notes), doc.notes
    result = score("pingtan-2025", extract(doc).flat(), gold)
    assert result.template_ok
    assert result.correct == result.gold_fields, (result.silent_keys, result.errors_by_section)
    assert result.invented == 0
    # a value's span points at its cell on the page image: table 3's 总计 of 新收 on page 2
    row = next(line for line in doc.text.splitlines() if line.startswith("| 一、本年新收"))
    total = str(gold["fields"]["t3.new_received.total"])  # type: ignore[index]
    start = doc.text.index(row) + row.rindex(f"| {total} |") + 2
    box = box_for(doc.boxes, (start, start + len(total)))
    assert box is not None and box.page == 2
    assert doc.pages[1].width * 0.75 < box.x0 < box.x1 <= doc.pages[1].width  # the last column


@pytest.mark.usefixtures("font")
def test_a_multi_page_tiff_at_150_dpi_reads_a_2019_report(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GONGKAI_PAGE_SECONDS", "600")
    gold = _gold("real-pingtan-2020")
    doc = load_bytes(_tiff(report_pages(gold, dpi=150)), "pingtan-2020.tif")
    assert doc.kind == "image" and [p.number for p in doc.pages] == [1, 2]
    result = score("pingtan-2020", extract(doc).flat(), gold)
    assert result.template_ok and result.silent_errors == 0 and result.invented == 0
    assert result.correct == result.gold_fields, result.errors_by_section


def test_digits_read_as_letters_are_mended_only_in_number_cells() -> None:
    assert mend_digits("1O5") == "105"
    assert mend_digits("0.") == "0" and mend_digits("12.5") == "12.5"
    assert mend_digits("l2") == "12"
    assert mend_digits("o") == "0"
    assert mend_digits("I") == "1" and mend_digits("Ⅱ") == "11" and mend_digits("D") == "0"  # alone in a cell
    assert mend_digits("。") == "0"
    assert mend_digits("３６") == "36"
    assert mend_digits("其他") == "其他"
    assert mend_digits("Iol") == "Iol"  # no digit at all: a word, not a number


def test_one_misread_character_of_a_row_phrase_is_mended_and_nothing_else() -> None:
    row = "1.申请人无正当理由邀期不补正、行政机关不再处理其政府信息公开申请"
    mended, pairs = mend_wording(row)
    assert mended == row.replace("邀", "逾") and pairs == [("无正当理由邀期", "无正当理由逾期")]
    assert mend_wording("2.没有现成信息需要另行制作") == ("2.没有现成信息需要另行制作", [])
    assert mend_wording("未经复议接起诉")[0] == "未经复议接起诉"  # a header missing 直 is not made 复议后起诉
    assert mend_wording("本年新收申请12件")[1] == []  # too far from any phrase


def _ruled_page() -> np.ndarray:
    """A 3-column table whose first column holds one label spanning rows 2-3, drawn with lines only."""
    image = np.full((400, 600), 255, dtype=np.uint8)
    for y in (50, 110, 170, 230):
        image[y : y + 2, 50:551] = 0
    for x in (50, 250, 400, 550):
        image[50:232, x : x + 2] = 0
    image[170:172, 50:250] = 255  # the label cell spans the last two rows: no line between them
    return image


def test_ruled_cells_become_a_grid_with_a_merged_cell_written_once() -> None:
    tables = find_tables(_ruled_page(), text_height=20)
    assert len(tables) == 1
    cells = tables[0].cells
    assert [(c.row, c.col, c.rows, c.cols) for c in cells] == [
        (0, 0, 1, 1), (0, 1, 1, 1), (0, 2, 1, 1), (1, 0, 2, 1), (1, 1, 1, 1), (1, 2, 1, 1), (2, 1, 1, 1), (2, 2, 1, 1),
    ]  # fmt: skip
    builder = CountingBuilder()
    writer = PageWriter(builder, 1)
    boxes = [
        TextBox("信息内容", 0.99, 100, 70, 200, 90),
        TextBox("本年", 0.99, 300, 70, 350, 90),
        TextBox("(三)不予公开", 0.99, 80, 190, 220, 210),
        TextBox("12", 0.99, 310, 130, 330, 150),
        TextBox("o", 0.4, 460, 190, 470, 210),
    ]
    writer.write(boxes, tables)
    assert builder.build().text.splitlines() == ["| 信息内容 | 本年 |  |", "| (三)不予公开 | 12 |  |", "|  | 0 |"]
    assert [(low.text, low.score) for low in writer.low] == [("0", 0.4)]


def test_unruled_rows_of_numbers_keep_their_columns_and_empty_cells() -> None:
    builder = CountingBuilder()
    writer = PageWriter(builder, 1)
    row = [
        TextBox("1.重复申请", 0.99, 10, 10, 120, 30),
        TextBox("3", 0.99, 200, 10, 210, 30),
        TextBox("5", 0.99, 400, 10, 410, 30),
    ]
    gap = [
        TextBox("2.其他", 0.99, 10, 50, 80, 70),
        TextBox("4", 0.99, 300, 50, 310, 70),
        TextBox("6", 0.99, 400, 50, 410, 70),
    ]
    writer.write([TextBox("三、收到申请", 0.99, 10, 0, 100, 8), *row, *gap], [])
    assert builder.build().text.splitlines() == ["三、收到申请", "| 1.重复申请 | 3 |  | 5 |", "| 2.其他 |  | 4 | 6 |"]


@pytest.mark.usefixtures("font")
def test_the_skew_of_a_page_is_measured_from_its_rulings() -> None:
    page = report_pages(_gold("real-pingtan-2020"), dpi=100)[1]
    for angle in (-2.0, 1.5):
        measured = skew_angle(np.asarray(degrade(page, angle=angle)))
        assert abs(measured - angle) < 0.2


def _fake_ocr(seconds_for_page_two: float) -> object:
    calls = {"n": 0}

    def read(gray: np.ndarray) -> list[TextBox]:
        calls["n"] += 1
        if calls["n"] == 2:
            time.sleep(seconds_for_page_two)
        return [TextBox(f"政府信息公开 page {calls['n']}", 0.9, 10, 10, 300, 30)]

    return read


def test_the_page_limit_and_the_page_time_limit_cut_a_document_with_a_note(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ocr_read, "read_page", _fake_ocr(seconds_for_page_two=1.0))
    monkeypatch.setenv("GONGKAI_PAGE_SECONDS", "0.3")
    monkeypatch.setenv("GONGKAI_MAX_PAGES", "2")
    blank = Image.new("L", (200, 100), 255)
    seen: list[tuple[int, int]] = []
    flat = scan_module.image_document(
        _tiff([blank, blank, blank]), progress=lambda done, total: seen.append((done, total))
    )
    assert seen == [(1, 2), (2, 2)]  # a skipped page is still a page done
    assert "page 1" in flat.text and "page 2" not in flat.text
    assert [p.number for p in flat.pages] == [1]
    assert any("first 2 of 3 pages" in note for note in flat.notes)
    assert any(note.startswith("page 2 skipped") for note in flat.notes)


def test_a_scanned_pdf_tells_each_page_once_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    # its quick text-layer pass finds no text; only OCR tells the pages, so "page k of N" never runs back
    monkeypatch.setattr(ocr_read, "read_page", _fake_ocr(seconds_for_page_two=0.0))
    blank = Image.new("L", (200, 100), 255)
    buffer = io.BytesIO()
    blank.save(buffer, format="PDF", save_all=True, append_images=[blank, blank], resolution=72)
    seen: list[tuple[int, int]] = []
    load_bytes(buffer.getvalue(), "scan.pdf", progress=lambda done, total: seen.append((done, total)))
    assert seen == [(1, 3), (2, 3), (3, 3)]


def test_bad_images_end_in_one_line_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    png = png_bytes(Image.new("L", (120, 90), 255))
    with pytest.raises(IngestError) as corrupt:
        load_bytes(png[:60] + b"\x00" * 40, "broken.png")
    assert corrupt.value.code == "corrupt" and "\n" not in str(corrupt.value)
    assert " at 0x" not in str(corrupt.value)  # no Python object in a message meant for the uploader
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    with pytest.raises(IngestError) as bomb:
        load_bytes(png, "bomb.png")
    assert bomb.value.code == "too_large" and "megapixels" in str(bomb.value)


def test_a_pdf_with_no_text_and_no_image_is_refused() -> None:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument.new()
    document.new_page(595, 842)
    buffer = io.BytesIO()
    document.save(buffer)
    with pytest.raises(IngestError) as empty:
        load_bytes(buffer.getvalue(), "blank.pdf")
    assert empty.value.code == "no_text_layer" and "no text layer and no page images" in str(empty.value)


def test_a_table_ruled_between_rows_only_is_read_by_its_columns() -> None:
    image = np.full((300, 600), 255, dtype=np.uint8)
    for y in (50, 110, 170):
        image[y : y + 2, 50:551] = 0
    image[50:172, 50:52] = 0
    image[50:172, 549:551] = 0  # a frame and rules between rows, no column rulings
    tables = find_tables(image, text_height=20)
    assert len(tables) == 1 and max(c.col + c.cols for c in tables[0].cells) == 1
    builder = CountingBuilder()
    boxes = [
        TextBox("1.重复申请", 0.99, 60, 70, 170, 90),
        TextBox("3", 0.99, 300, 70, 310, 90),
        TextBox("5", 0.99, 450, 70, 460, 90),
        TextBox("2.其他", 0.99, 60, 130, 130, 150),
        TextBox("4", 0.99, 300, 130, 310, 150),
        TextBox("6", 0.99, 450, 130, 460, 150),
    ]
    PageWriter(builder, 1).write(boxes, tables)
    assert builder.build().text.splitlines() == ["| 1.重复申请 | 3 | 5 |", "| 2.其他 | 4 | 6 |"]


def test_a_16_bit_grey_and_a_transparent_page_are_read_as_paper_with_ink() -> None:
    from extractor.ingest.ocr_image import image_pages

    deep = Image.fromarray(np.full((40, 60), 60000, dtype=np.uint16))
    deep.paste(Image.fromarray(np.full((10, 10), 1000, dtype=np.uint16)), (5, 5))
    clear = Image.new("RGBA", (60, 40), (0, 0, 0, 0))
    clear.paste((0, 0, 0, 255), (5, 5, 15, 15))
    for image in (deep, clear):
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        (gray,) = list(image_pages(buffer.getvalue(), limit=5))
        assert gray[0, 0] > 200 and gray[8, 8] < 50  # white paper, dark ink


def test_only_ink_inside_an_empty_cell_is_sent_to_recognition() -> None:
    from extractor.ingest.ocr_engine import _ink_frame

    paper = np.full((40, 60), 250, dtype=np.uint8)
    assert _ink_frame(paper) is None
    digit = paper.copy()
    digit[12:28, 28:31] = 40  # a thin 1
    assert _ink_frame(digit) == (28, 12, 31, 28)
    ruling = paper.copy()
    ruling[:, 0:2] = 30  # the edge of a tilted cell's ruling
    assert _ink_frame(ruling) is None
    dash = paper.copy()
    dash[20:22, 20:40] = 30  # a printed dash: a blank, not a digit
    assert _ink_frame(dash) is None


def test_an_empty_column_of_an_unruled_row_is_read_again_before_it_counts_as_blank() -> None:
    asked: list[tuple[int, int, int, int]] = []

    missed = TextBox("3", 0.9, 398, 52, 412, 68)  # printed, but the detector did not find it

    def reread(regions: list[tuple[int, int, int, int]]) -> list[TextBox]:
        asked.extend(regions)
        x, y = missed.center
        return [missed] if any(x0 <= x <= x1 and top <= y <= bottom for x0, top, x1, bottom in regions) else []

    builder = CountingBuilder()
    rows = [
        [
            TextBox("规章", 0.99, 10, 10, 60, 30),
            TextBox("0", 0.9, 200, 10, 210, 30),
            TextBox("2", 0.9, 400, 10, 410, 30),
        ],
        [TextBox("规范性文件", 0.99, 10, 50, 110, 70), TextBox("1", 0.9, 200, 50, 210, 70)],
        [
            TextBox("其他", 0.99, 10, 90, 60, 110),
            TextBox("4", 0.9, 200, 90, 210, 110),
            TextBox("5", 0.9, 400, 90, 410, 110),
        ],
    ]
    rows[1].append(TextBox("0", 0.9, 300, 50, 310, 70))  # a middle column only this row prints
    PageWriter(builder, 1, reread=reread).write([b for row in rows for b in row], [])
    lines = builder.build().text.splitlines()
    assert lines == ["| 规章 | 0 |  | 2 |", "| 规范性文件 | 1 | 0 | 3 |", "| 其他 | 4 |  | 5 |"]
    assert len(asked) == 3  # one empty slot per row, each asked about once
