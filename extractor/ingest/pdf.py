"""PDF → text rebuilt from where things were printed (pdfplumber), pages rendered for review (pypdfium2).

Text read line by line across a page scrambles tables: a row-group label printed vertically comes
out one character between rows, a wrapped label's pieces come out above and below its numbers.
So each page is read from geometry: ruled tables from their lines (`pdf_ruled`), unruled ones
from alignment (`pdf_aligned`), the rest as lines (`pdf_text`); tables are written as the ` | `
rows the HTML reader writes, carried over page breaks (`pdf_layout`), every line and cell with
its box, every page with a picture (`pdf_render`). An unruled table's columns come from its header
as much as from its numbers, so a page that goes on with such a table without printing its header
again is read under the header the page before printed (`pdf_aligned.open_table`).

A PDF whose pages carry no text layer but images is a scan: it goes to OCR (`extractor.ingest.scan`);
one with neither is refused (`no_text_layer`). A PDF locked with a password is refused
(`encrypted`); one encrypted without an opening password (copy or print restrictions only) is
read, and a page whose characters pdfminer cannot map is read by pdfium (`pdf_pdfium`).
Limits (`extractor.ingest.limits`): the first GONGKAI_MAX_PAGES pages are read and a note says
the rest were skipped; reading stops early, with a note, when the pages read so far have used
GONGKAI_PAGE_SECONDS each.
"""

from __future__ import annotations

import io
import time
from typing import Any

from extractor.ingest.errors import IngestError
from extractor.ingest.limits import max_pages, page_seconds, pages_cut_note
from extractor.ingest.pages import Flattened, Page, PageProgress, TextBuilder
from extractor.ingest.pdf_aligned import OpenTable, aligned_blocks, open_table
from extractor.ingest.pdf_grid import Grid
from extractor.ingest.pdf_layout import Block, PageBlocks, carry_tables, drop_furniture, write
from extractor.ingest.pdf_pdfium import PdfiumText, unmapped_share
from extractor.ingest.pdf_render import render_pages
from extractor.ingest.pdf_ruled import ruled_grids
from extractor.ingest.pdf_text import glyphs_of, group_lines
from extractor.ingest.scan import scanned_pdf_document

_MIN_CHARS_PER_PAGE = 20
# Past this share of `(cid:N)` glyphs a page's characters are read by pdfium instead.
_MAX_UNMAPPED = 0.5


def pdf_document(data: bytes, progress: PageProgress | None = None) -> tuple[Flattened, str]:
    """The PDF's text and how it was got: "pdf-text-layer", or "ocr" when the pages are scans.

    `progress` is told after each page read (a scan's pages are told by OCR)."""
    import pdfplumber

    notes: list[str] = []
    # a scan's pages are told by OCR; its quick text pass (milliseconds a page) would count them first
    text_pass = None if progress is None or pdf_needs_ocr(data) else progress
    pdfium_text = PdfiumText(data)
    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            total = len(pdf.pages)
            if total == 0:
                raise IngestError("empty_pdf", "the PDF has no pages")
            limit = min(total, max_pages())
            if limit < total:
                notes.append(pages_cut_note(limit, total))
            read, sizes, has_images, chars = _read_pages(pdf.pages[:limit], pdfium_text, notes, text_pass)
    except IngestError:
        raise
    except Exception as exc:  # pdfminer raises many private error types on damaged or locked files
        raise _open_error(exc) from exc
    finally:
        pdfium_text.close()
    if chars < _MIN_CHARS_PER_PAGE * max(1, len(read)):
        if has_images:
            return scanned_pdf_document(data, progress=progress), "ocr"
        raise IngestError("no_text_layer", "the PDF has no text layer and no page images: nothing to read")
    drop_furniture(read)
    carry_tables(read)
    builder = TextBuilder()
    write(read, builder)
    images = render_pages(data, len(read))
    pages = [Page(p.number, w, h, image) for p, (w, h), image in zip(read, sizes, images, strict=True)]
    return builder.build(pages, notes), "pdf-text-layer"


def pdf_needs_ocr(data: bytes) -> bool:
    """Whether `pdf_document` would send this PDF to OCR (or refuse it for having no text): its first
    `max_pages()` pages print fewer than `_MIN_CHARS_PER_PAGE` characters a page.

    Cheap and OCR-free, so an upload can decide in the request whether the file must wait for a
    worker: pdfium counts each page's characters (about a millisecond a page, nothing laid out) and
    stops as soon as enough text is found. A PDF pdfium cannot open is not OCR's: the synchronous
    path refuses it with its one-line reason.
    """
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError:
        return False
    try:
        pages = min(len(document), max_pages())
        if pages == 0:
            return False
        needed = _MIN_CHARS_PER_PAGE * pages
        found = 0
        for index in range(pages):
            page = document[index]
            textpage = page.get_textpage()
            found += sum(1 for ch in textpage.get_text_range() if not ch.isspace())
            textpage.close()
            page.close()
            if found >= needed:
                return False
        return True
    except pdfium.PdfiumError:
        return False
    finally:
        document.close()


def _read_pages(
    pdf_pages: list[Any], pdfium_text: PdfiumText, notes: list[str], progress: PageProgress | None = None
) -> tuple[list[PageBlocks], list[tuple[float, float]], bool, int]:
    """Each page's blocks and size, whether any page holds an image, and how many glyphs were read."""
    read: list[PageBlocks] = []
    sizes: list[tuple[float, float]] = []
    has_images = False
    chars = 0
    pictures_only: list[int] = []  # pages printed as images with no text on them: scanned pages
    started = time.monotonic()
    budget = page_seconds()
    carried: OpenTable | None = None  # the unruled table the last page ended with
    for page in pdf_pages:
        blocks, count = _page_blocks(page, pdfium_text, carried)
        if carried and carried.printed and read and _took_header(blocks, page.page_number):
            printed = carried.printed
            read[-1].blocks = [b for b in read[-1].blocks if not any(b is line for line in printed)]
        carried = open_table(blocks, float(page.height))
        chars += count
        if page.images:
            has_images = True
            if count < _MIN_CHARS_PER_PAGE:
                pictures_only.append(page.page_number)
        read.append(PageBlocks(page.page_number, float(page.height), blocks))
        sizes.append((float(page.width), float(page.height)))
        page.close()  # frees pdfplumber's cached objects: a long file stays small in memory
        if progress is not None:
            progress(len(read), len(pdf_pages))
        if time.monotonic() - started > budget * len(read) and len(read) < len(pdf_pages):
            notes.append(
                f"stopped after page {len(read)} of {len(pdf_pages)}: over {budget:g} s a page"
                " (time limit GONGKAI_PAGE_SECONDS); later pages were skipped"
            )
            break
    if pictures_only and chars >= _MIN_CHARS_PER_PAGE * max(1, len(read)):
        listed = ", ".join(str(n) for n in pictures_only[:10]) + (" …" if len(pictures_only) > 10 else "")
        notes.append(f"page(s) {listed} hold only images (scanned?): their text was not read")
    return read, sizes, has_images, chars


def _page_blocks(page: Any, pdfium_text: PdfiumText, carried: OpenTable | None) -> tuple[list[Block], int]:
    """One page's tables and lines, top to bottom, and how many glyphs it printed.

    `carried` is the unruled table the page before ended with (see `aligned_blocks`)."""
    glyphs = glyphs_of(page.chars)
    if unmapped_share(glyphs) > _MAX_UNMAPPED:  # pdfminer could not map the font: ask pdfium
        glyphs = pdfium_text.glyphs(page.page_number - 1, float(page.height))
    grids, outside = ruled_grids(page, glyphs, page.page_number)
    number = page.page_number
    blocks: list[Block] = [*grids, *aligned_blocks(group_lines(outside), number, carried)]
    for block in blocks:
        if isinstance(block, Grid):
            for row in block.rows:
                for cell in row:
                    if cell is not None and not cell.page:  # a carried header's cells keep their page
                        cell.page = block.page
    blocks.sort(key=lambda block: _top_on(block, number))
    return blocks, len(glyphs)


def _top_on(block: Block, number: int) -> float:
    """Where a block starts on page `number` (a grid whose header was printed on the page before
    starts where its first row on this page does)."""
    if isinstance(block, Grid):
        tops = [c.rect[1] for row in block.rows for c in row if c is not None and c.page in (0, number)]
        return min(tops, default=block.top)
    return block.top


def _took_header(blocks: list[Block], number: int) -> bool:
    """The page opens with a table read under the header the page before printed."""
    return any(
        isinstance(b, Grid) and any(c is not None and c.page == number - 1 for row in b.rows for c in row)
        for b in blocks
    )


def _open_error(exc: Exception) -> IngestError:
    """Why pdfplumber could not read the file, as one line: locked by a password, or damaged."""
    from pdfminer.pdfdocument import PDFPasswordIncorrect

    if any(isinstance(e, PDFPasswordIncorrect) or "password" in str(e).lower() for e in _causes(exc)):
        return IngestError("encrypted", "the PDF is locked with a password: upload a copy saved without one")
    text = str(exc).strip()
    message = text.splitlines()[0][:200] if text else exc.__class__.__name__
    return IngestError("corrupt", f"cannot read the PDF: {message}")


def _causes(exc: BaseException) -> list[BaseException]:
    """The error and every error behind it (pdfplumber wraps pdfminer's in its own)."""
    seen: list[BaseException] = []
    stack: list[BaseException | None] = [exc]
    while stack:
        error = stack.pop()
        if error is None or any(error is s for s in seen):
            continue
        seen.append(error)
        stack.extend([error.__cause__, error.__context__, *(a for a in error.args if isinstance(a, BaseException))])
    return seen
