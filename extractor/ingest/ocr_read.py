"""OCR of a scan's pages into one text: the work behind `extractor.ingest.scan`.

Each page is turned into a grey image (`ocr_image`: decoded or rendered at 200 dpi, bounded in
size, deskewed), read by RapidOCR (`ocr_engine`), its ruled tables found (`ocr_grid`) and written
as the same lines and ` | ` table rows every other format gives the readers (`ocr_layout`), each
cell's span keeping its box in the page image. The page image itself (as OCR saw it, downscaled
for the reviewer's crop) goes with it. Only the first `max_pages` pages are read and a page that
takes longer than `page_seconds` is skipped; both are said in the notes, as are the cells read
with a low score and the label words mended to the form's wording.
"""

from __future__ import annotations

import functools
import io
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from PIL import Image

from extractor.ingest.errors import IngestError
from extractor.ingest.limits import pages_cut_note
from extractor.ingest.ocr_engine import GrayImage, TextBox, read_page, read_regions
from extractor.ingest.ocr_grid import Table, find_tables
from extractor.ingest.ocr_image import deskew, frame_count, image_pages, pdf_page_count, pdf_pages, whitened
from extractor.ingest.ocr_layout import CountingBuilder, LowScore, PageWriter
from extractor.ingest.pages import Flattened, Page, PageProgress

_PREVIEW_SIDE = 1600  # the page image kept for the reviewer: long side in pixels
_LOW_SCORE_NOTES = 20  # low-confidence cells listed one per note; the rest counted in one more


def read_pdf(data: bytes, max_pages: int, page_seconds: float, progress: PageProgress | None) -> Flattened:
    """A PDF without a text layer, read page by page."""
    nothing = ("no_text_layer", "PDF has no text layer and OCR found no text on its pages")
    return _read(pdf_pages(data, max_pages), pdf_page_count(data), max_pages, page_seconds, progress, nothing)


def read_image(data: bytes, max_pages: int, page_seconds: float, progress: PageProgress | None) -> Flattened:
    """A PNG, JPEG or TIFF, every frame of a multi-page TIFF a page."""
    nothing = ("no_text", "OCR found no text in the image")
    return _read(image_pages(data, max_pages), frame_count(data), max_pages, page_seconds, progress, nothing)


@dataclass
class _PageResult:
    image: GrayImage
    boxes: list[TextBox]
    tables: list[Table]
    angle: float


def _ocr(gray: GrayImage) -> _PageResult:
    upright, angle = deskew(whitened(gray))
    boxes = read_page(upright)
    heights = sorted(b.height for b in boxes)
    text_height = heights[len(heights) // 2] if heights else 20.0
    tables = find_tables(upright, text_height)
    boxes += read_regions(upright, _unread_cells(tables, boxes, text_height))
    return _PageResult(upright, boxes, tables, angle)


def _unread_cells(tables: list[Table], boxes: list[TextBox], text_height: float) -> list[tuple[int, int, int, int]]:
    """Insides of ruled cells no detected box stands in, a ruling's width in from each side: where
    the detector may have missed a lone thin digit. Cells too small to hold a character are left."""
    inset = max(3, round(text_height * 0.15))
    regions: list[tuple[int, int, int, int]] = []
    for table in tables:
        for cell in table.cells:
            if any(cell.contains(*b.center) for b in boxes):
                continue
            x0, top, x1, bottom = (
                round(cell.x0) + inset,
                round(cell.top) + inset,
                round(cell.x1) - inset,
                round(cell.bottom) - inset,
            )
            if x1 - x0 >= text_height * 0.5 and bottom - top >= text_height * 0.6:
                regions.append((x0, top, x1, bottom))
    return regions


def _ocr_within(gray: GrayImage, seconds: float) -> _PageResult | None:
    """OCR of one page in a worker thread; None when it is not done in time (the thread is left to
    finish on its own: onnxruntime cannot be interrupted, but the document goes on without it)."""
    result: list[_PageResult] = []
    failure: list[BaseException] = []

    def work() -> None:
        try:
            result.append(_ocr(gray))
        except BaseException as exc:  # handed to the caller's thread
            failure.append(exc)

    worker = threading.Thread(target=work, name="gongkai-ocr-page", daemon=False)
    worker.start()
    worker.join(seconds)
    if failure:
        raise failure[0]
    return result[0] if result else None


def _read(
    pages: Iterator[GrayImage],
    count: int,
    limit: int,
    seconds: float,
    progress: PageProgress | None,
    nothing: tuple[str, str],
) -> Flattened:
    """OCR every page within the limits; `nothing` is the error (code, line) when no page has text."""
    total = min(count, limit)
    builder = CountingBuilder()
    out_pages: list[Page] = []
    notes: list[str] = []
    low: list[LowScore] = []
    turned: list[float] = []
    if count > limit:
        notes.append(pages_cut_note(limit, count))
    for number, gray in enumerate(pages, start=1):
        page = _ocr_within(gray, seconds)
        if page is None:
            notes.append(f"page {number} skipped: OCR took over {seconds:g} s (GONGKAI_PAGE_SECONDS)")
        else:
            writer = PageWriter(builder, number, reread=functools.partial(read_regions, page.image))
            writer.write(page.boxes, page.tables)
            low.extend(writer.low)
            notes.extend(
                f"page {number}: OCR read {read!r}, mended to the form's {form!r}" for read, form in writer.mended
            )
            height, width = page.image.shape[:2]
            out_pages.append(Page(number, float(width), float(height), _preview(page.image)))
            if page.angle:
                turned.append(page.angle)
        if progress is not None:
            progress(number, total)
    if not builder.build().text.strip():
        raise IngestError(*nothing)
    if turned:
        lo, hi = min(turned), max(turned)
        by = f"{lo:+.1f}°" if f"{lo:.1f}" == f"{hi:.1f}" else f"{lo:+.1f}° to {hi:+.1f}°"
        notes.append(f"{len(turned)} of {total} pages turned upright before OCR ({by})")
    notes.extend(_low_score_notes(low))
    return builder.build(out_pages, notes)


def _low_score_notes(low: list[LowScore]) -> list[str]:
    """One parseable line per low-confidence cell: `OCR low confidence 0.42 at 1234-1236 (page 2): 36`."""
    lines = [
        f"OCR low confidence {item.score:.2f} at {item.start}-{item.end} (page {item.page}): {item.text}"
        for item in low[:_LOW_SCORE_NOTES]
    ]
    if len(low) > _LOW_SCORE_NOTES:
        lines.append(f"OCR low confidence on {len(low) - _LOW_SCORE_NOTES} more cells")
    return lines


def _preview(gray: GrayImage) -> bytes:
    """The page as OCR saw it, PNG, its long side at most _PREVIEW_SIDE (boxes scale by width/Page.width)."""
    image = Image.fromarray(np.ascontiguousarray(gray), mode="L")
    if max(image.size) > _PREVIEW_SIDE:
        image.thumbnail((_PREVIEW_SIDE, _PREVIEW_SIDE), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()
