"""Turn a user's file into one text with known provenance, or a clear error."""

from extractor.ingest.document import Origin, SourceDocument, load_bytes, load_path, needs_ocr
from extractor.ingest.errors import IngestError

__all__ = ["IngestError", "Origin", "SourceDocument", "load_bytes", "load_path", "needs_ocr"]
