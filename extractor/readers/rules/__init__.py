"""The deterministic reader of the mandated layout: no model, no key, the default."""

from extractor.readers.rules.reader import READER_VERSION, read_section, read_sections

__all__ = ["READER_VERSION", "read_section", "read_sections"]
