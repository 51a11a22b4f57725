"""PDF with a text layer → text, page by page (pdfplumber keeps each printed line a line).

A scanned PDF has no text layer; it is refused with a clear error until OCR lands.
"""

from __future__ import annotations

import io

from extractor.ingest.errors import IngestError

_MIN_CHARS_PER_PAGE = 20


def pdf_to_text(data: bytes) -> str:
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
        raise IngestError("no_text_layer", "PDF has no text layer (a scan?): OCR is not supported yet")
    return text
