"""Word files: DOCX read as its table grids and paragraphs; .doc/.wps converted first (not built yet)."""

from __future__ import annotations

from extractor.ingest.errors import IngestError
from extractor.ingest.pages import Flattened


def word_document(data: bytes) -> Flattened:
    raise IngestError("unsupported", "docx/zip files are not supported yet (text, markdown, HTML and PDF are)")


def legacy_word_document(data: bytes) -> Flattened:
    raise IngestError("unsupported", "old Office (.doc/.wps) files are not supported yet (text, HTML and PDF are)")
