"""PDF → text, page by page (pdfplumber keeps each printed line a line).

A PDF whose pages carry no text layer is a scan: it goes to OCR (`extractor.ingest.scan`).
"""

from __future__ import annotations

import io

from extractor.ingest.errors import IngestError
from extractor.ingest.pages import Flattened
from extractor.ingest.scan import scanned_pdf_document

_MIN_CHARS_PER_PAGE = 20


def pdf_document(data: bytes) -> tuple[Flattened, str]:
    """The PDF's text and how it was got: "pdf-text-layer", or "ocr" when the pages are scans."""
    import pdfplumber
    from pdfminer.pdfparser import PDFSyntaxError

    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            pages = [page.extract_text() or "" for page in pdf.pages]
    except (PDFSyntaxError, ValueError, KeyError, TypeError) as exc:
        raise IngestError("corrupt", f"cannot read the PDF: {exc.__class__.__name__}") from exc
    except Exception as exc:  # pdfminer raises many private error types on damaged files
        raise IngestError("corrupt", f"cannot read the PDF: {exc}") from exc
    text = "\n".join(pages)
    if len(text.strip()) < _MIN_CHARS_PER_PAGE * max(1, len(pages)):
        return scanned_pdf_document(data), "ocr"
    return Flattened(text), "pdf-text-layer"
