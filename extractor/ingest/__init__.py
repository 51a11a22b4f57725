"""Turn a user's file into one text with known provenance, or a clear error."""

from extractor.ingest.document import SourceDocument, load_bytes, load_path
from extractor.ingest.errors import IngestError

__all__ = ["IngestError", "SourceDocument", "load_bytes", "load_path"]
