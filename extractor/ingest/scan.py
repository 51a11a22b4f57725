"""Scans — a PDF of page images, or a PNG/JPEG/(multi-page) TIFF — read by offline OCR.

The OCR itself is `extractor.ingest.ocr_read` (RapidOCR, OpenCV, numpy), imported only when a scan
comes, so reading text, HTML and PDF files does not load it. Here are the limits that keep one
file from stalling a worker: the first `_max_pages()` pages are read, and a page that takes longer
than `_page_seconds()` is skipped (both said in the document's notes). `progress(done, total)` is
called after each page.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from extractor.ingest.pages import Flattened

Progress = Callable[[int, int], None]


def scanned_pdf_document(data: bytes, *, progress: Progress | None = None) -> Flattened:
    """A PDF without a text layer, read page by page by OCR."""
    from extractor.ingest.ocr_read import read_pdf

    return read_pdf(data, _max_pages(), _page_seconds(), progress)


def image_document(data: bytes, *, progress: Progress | None = None) -> Flattened:
    """A PNG, JPEG or TIFF (every frame of a multi-page TIFF a page), read by OCR."""
    from extractor.ingest.ocr_read import read_image

    return read_image(data, _max_pages(), _page_seconds(), progress)


# TODO(limits): replace these two with `extractor.ingest.limits.max_pages` / `page_seconds`
# (the shared limits module) when it is merged; same variables, same defaults.
def _max_pages() -> int:
    """Pages read from one file (env GONGKAI_MAX_PAGES, default 300)."""
    return int(_env_number("GONGKAI_MAX_PAGES", 300))


def _page_seconds() -> float:
    """Seconds one page may take before it is skipped (env GONGKAI_PAGE_SECONDS, default 20)."""
    return _env_number("GONGKAI_PAGE_SECONDS", 20.0)


def _env_number(name: str, default: float) -> float:
    """A positive number from the environment; unset, unparsable or not positive → the default."""
    try:
        value = float(os.environ.get(name, default))
    except ValueError:
        return default
    return value if value > 0 else default
