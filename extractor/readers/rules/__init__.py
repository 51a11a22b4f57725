"""The deterministic reader of the mandated layout: no model, no key, the default."""

from extractor.readers.rules.reader import (
    READER_VERSION,
    DocumentPlan,
    SectionReading,
    assemble,
    plan_document,
    read_document,
    read_section,
)

__all__ = [
    "READER_VERSION",
    "DocumentPlan",
    "SectionReading",
    "assemble",
    "plan_document",
    "read_document",
    "read_section",
]
