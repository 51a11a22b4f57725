"""Scans — a PDF of page images, or a PNG/JPEG/(multi-page) TIFF — read by offline OCR.

The OCR itself is `extractor.ingest.ocr_read` (RapidOCR, OpenCV, numpy), imported only when a scan
comes, so reading text, HTML and PDF files does not load it. The limits that keep one file from
stalling a worker are the shared ones (`extractor.ingest.limits`): the first `max_pages()` pages are
read, and a page that takes longer than `page_seconds()` is skipped (both said in the document's
notes). `progress(done, total)` is called after each page.
"""

from __future__ import annotations

from extractor.ingest.limits import max_pages, page_seconds
from extractor.ingest.pages import Flattened, PageProgress


def scanned_pdf_document(data: bytes, progress: PageProgress | None = None) -> Flattened:
    """A PDF without a text layer, read page by page by OCR."""
    from extractor.ingest.ocr_read import read_pdf

    return read_pdf(data, max_pages(), page_seconds(), progress)


def image_document(data: bytes, progress: PageProgress | None = None) -> Flattened:
    """A PNG, JPEG or TIFF (every frame of a multi-page TIFF a page), read by OCR."""
    from extractor.ingest.ocr_read import read_image

    return read_image(data, max_pages(), page_seconds(), progress)
