"""Reader-neutral layout: tokens, row labels, template detection, table location and the document plan.

Both readers cut the text by the same plan; neither knows the other.
"""

from extractor.readers.layout.plan import NOT_FOUND, DocumentPlan, SectionReading, assemble, plan_document

__all__ = ["NOT_FOUND", "DocumentPlan", "SectionReading", "assemble", "plan_document"]
