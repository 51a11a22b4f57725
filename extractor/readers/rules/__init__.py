"""The deterministic reader of the mandated layout: no model, no key, the default."""

from extractor.readers.rules.reader import READER_VERSION, read_document

__all__ = ["READER_VERSION", "read_document"]
