"""What every reader learns before reading cells, and how section readings become one extraction.

The plan (metadata, template, where each table sits) and the assembly of section readings are
reader-neutral: the rules reader and the LLM reader both cut the text by the same plan, and a
worker can read the sections of one plan apart and join them here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from extractor.confidence import NONE
from extractor.ingest import SourceDocument
from extractor.model import Extraction, FieldValue
from extractor.readers.layout.locate import Searchable, locate, printed_copies
from extractor.readers.layout.meta import detect_template, read_agency, read_year
from schemas import DISCLOSURE_REPORT, ReportType

NOT_FOUND = "cell not found in the document"


@dataclass(frozen=True)
class DocumentPlan:
    """Plain data (strings, ints, tuples) so that a worker can read the sections apart."""

    doc: str
    template: str | None
    year: int | None
    agency: str | None
    regions: dict[str, tuple[int, int] | None]
    notes: tuple[str, ...] = ()


@dataclass
class SectionReading:
    """One table as one reader read it: its cells and what the reader noticed."""

    section: str
    fields: list[FieldValue] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _doc_id(name: str) -> str:
    """The file name without its extension; a part of a compilation keeps its number (汇编.pdf#3 → 汇编#3)."""
    file, mark, part = name.rpartition("#")
    if mark and part.isdigit():
        return f"{file.rsplit('.', 1)[0]}#{part}"
    return name.rsplit(".", 1)[0]


def plan_document(doc: SourceDocument, report: ReportType = DISCLOSURE_REPORT) -> DocumentPlan:
    """Year, template and agency first: the template says which tables to look for, and how."""
    text = doc.normalized
    year = read_year(text)
    template, note = detect_template(report, text, year)
    notes = [note] if note else []
    regions: dict[str, tuple[int, int] | None] = {}
    if template is None:
        notes.append("no known table template found")
    else:
        searchable = Searchable(text)  # one flat copy of the text for both searches
        regions = locate(template, searchable)
        copies = len(printed_copies(template, searchable))
        if copies > 1:
            notes.append(
                f"this file seems to hold {copies} reports (its tables are printed {copies} times): only the "
                "first was read; read the file through a door that splits it (gongkai extract, the API, "
                "gongkai submit) to read each"
            )
    return DocumentPlan(
        doc=_doc_id(doc.name),
        template=template.version if template else None,
        year=year,
        agency=read_agency(doc.text, text),
        regions=regions,
        notes=tuple(notes),
    )


def assemble(
    plan: DocumentPlan, readings: Sequence[SectionReading], reader: str, reader_version: str,
    report: ReportType = DISCLOSURE_REPORT,
) -> Extraction:  # fmt: skip
    """The sections' cells as one extraction; cells no section gave are marked missing."""
    result = Extraction(
        doc=plan.doc, template=plan.template, year=plan.year, agency=plan.agency,
        reader=reader, reader_version=reader_version, notes=list(plan.notes),
    )  # fmt: skip
    for reading in readings:
        result.notes.extend(reading.notes)
        for value in reading.fields:
            result.fields.setdefault(value.key, value)
    if plan.template is not None:
        # the form the report used: a row printed instead of others (六 as one row) or those others
        for key in report.template(plan.template).used_keys(result.fields):
            if key not in result.fields:
                result.fields[key] = FieldValue(key, None, status="missing", confidence=NONE, reasons=[NOT_FOUND])
    return result
