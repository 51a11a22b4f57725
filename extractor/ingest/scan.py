"""Scans — a PDF of page images, or a PNG/JPEG/TIFF — read by offline OCR (not built yet)."""

from __future__ import annotations

from extractor.ingest.errors import IngestError
from extractor.ingest.pages import Flattened, PageProgress


def scanned_pdf_document(data: bytes, progress: PageProgress | None = None) -> Flattened:
    raise IngestError("no_text_layer", "PDF has no text layer (a scan?): OCR is not supported yet")


def image_document(data: bytes, progress: PageProgress | None = None) -> Flattened:
    raise IngestError("unsupported", "image files are not supported yet (text, markdown, HTML and PDF are)")
