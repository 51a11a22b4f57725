"""Cells read from damaged bytes are flagged, never kept as confident.

Ingest reads a slightly damaged file instead of refusing it: every byte it could not decode
(and every stray NUL or control byte) is one U+FFFD in the text (`SourceDocument.replaced`).
Three rules, weakest evidence last:

- A number printed beside such a character may have lost a digit, a sign or its separator, or
  (after a damaged row label) belong to another row: every cell whose source span touches one
  (overlaps it, or only white space stands between) is flagged.
- A damaged byte can also have been (or sit beside) a separator, a line break or a row label,
  and then cells far from it may slide into each other's places. So the rules reader reads the
  text a second time with every damaged run and the character on each side of it blanked; a
  cell that reads differently depends on what the damaged bytes were, and is flagged. Only
  damaged documents pay for this second reading.
- A file cut off (it ends mid-character or in zero bytes) loses the end of a table, and the
  rows that remain may be placed against the incomplete table: every cell of a table with
  cells missing is flagged.

The run's notes say how many bytes were replaced and where, and how many cells touch them,
so a reviewer knows whether the rest of the file read clean.
"""

from __future__ import annotations

from collections.abc import Sequence

from extractor.confidence import DOUBTFUL
from extractor.ingest import SourceDocument
from extractor.ingest.decode import replacement_spans
from extractor.ingest.normalize import normalize
from extractor.model import Extraction, FieldValue, Number
from extractor.readers.layout import plan_document
from extractor.readers.rules import read_sections
from schemas import DISCLOSURE_REPORT, ReportType

# A cell beside damaged bytes is DOUBTFUL: the bytes that would tell are gone, and a second
# reading cannot settle it (it reads the same damaged text).
_LISTED = 8  # spans named in the run's note; the rest are counted
_GAP = 16  # white space between a cell and damage up to this long still counts as touching
_CUT_REASON = (
    "the file is cut off and this table lost cells: the rows that remain may have been placed in "
    "the places of the lost ones"
)


def _where(span: tuple[int, int]) -> str:
    start, end = span
    return f"character {start}" if end - start == 1 else f"characters {start}-{end - 1}"


def touches(text: str, cell: tuple[int, int], damage: tuple[int, int]) -> bool:
    """Overlapping, adjacent, or with only white space between: '12' right before a lost byte may
    have been '123', and a number after a damaged row label may belong to another row."""
    if cell[0] <= damage[1] and damage[0] <= cell[1]:
        return True
    gap = text[cell[1] : damage[0]] if cell[1] < damage[0] else text[damage[1] : cell[0]]
    return len(gap) <= _GAP and not gap.strip()


def _touching(field: FieldValue, spans: Sequence[tuple[int, int]], text: str) -> list[tuple[int, int]]:
    if field.span is None:
        return []
    cell = field.span
    return [span for span in spans if touches(text, cell, span)]


def damage_spans(doc: SourceDocument) -> tuple[tuple[int, int], ...]:
    """Where the text was damaged: as ingest recorded it, or (for a document rebuilt from storage,
    which keeps only the text) the U+FFFD runs found in the text again."""
    return doc.replaced or replacement_spans(doc.text)


def _cut_off(doc: SourceDocument, spans: Sequence[tuple[int, int]]) -> bool:
    """Cut off as ingest saw it, or (rebuilt from storage) a text that ends in replaced characters."""
    return doc.truncated or bool(spans and spans[-1][1] >= len(doc.text.rstrip()))


def _section(key: str) -> str:
    return key.split(".", 1)[0]


def _blanked(text: str, spans: Sequence[tuple[int, int]]) -> str:
    """The text with every damaged run and its neighbour on each side made a space (same length)."""
    chars = list(text)
    for start, end in spans:
        for index in range(max(0, start - 1), min(len(chars), end + 1)):
            chars[index] = " "
    return "".join(chars)


def _rules_values(doc: SourceDocument, report: ReportType) -> dict[str, Number | None]:
    plan = plan_document(doc, report)
    readings = read_sections(doc, plan, list(plan.regions), report)
    return {value.key: value.value for reading in readings for value in reading.fields}


def sensitive_cells(
    doc: SourceDocument, spans: Sequence[tuple[int, int]], report: ReportType = DISCLOSURE_REPORT
) -> dict[str, Number | None]:
    """Cells the rules reader reads differently once the damage and its neighbours are blanked:
    key → the value read then (None: not found then)."""
    text = _blanked(doc.text, spans)
    # built field by field: ingest's classes may be compiled with mypyc, not plain dataclasses
    variant = SourceDocument(
        name=doc.name, sha256=doc.sha256, kind=doc.kind, encoding=doc.encoding, size=doc.size, text=text,
        normalized=normalize(text),
    )  # fmt: skip
    before, after = _rules_values(doc, report), _rules_values(variant, report)
    return {key: after.get(key) for key in before.keys() | after.keys() if before.get(key) != after.get(key)}


def _flag_tables(extraction: Extraction, sections: set[str], reason: str, confidence: float) -> int:
    """Every cell that has a value in the given tables; how many."""
    flagged = 0
    for key, cell in extraction.fields.items():
        if _section(key) in sections and cell.status != "missing":
            cell.doubt(reason, confidence, layout=False)
            flagged += 1
    return flagged


def flag_damaged(extraction: Extraction, doc: SourceDocument, report: ReportType = DISCLOSURE_REPORT) -> None:
    """Flag the cells damaged bytes may have changed (module docstring); note the damage on the run."""
    spans = damage_spans(doc)
    if not spans and not doc.damage and not doc.truncated:
        return
    flagged = 0
    for field in extraction.fields.values():
        touched = _touching(field, spans, doc.text)
        if not touched:
            continue
        count = sum(end - start for start, end in touched)
        where = ", ".join(_where(span) for span in touched)
        field.doubt(
            f"the source bytes here were damaged ({count} byte(s) replaced by � at {where}): "
            "a digit or a separator may be lost",
            DOUBTFUL,
            layout=False,
        )
        flagged += 1
    extraction.notes.append(_note(doc, spans, flagged))
    if spans:
        moved = 0
        for key, other in sensitive_cells(doc, spans, report).items():
            cell = extraction.fields.get(key)
            if cell is None or cell.status == "missing" or _touching(cell, spans, doc.text):
                continue
            shown = "nothing" if other is None else str(other)
            cell.doubt(
                f"this cell depends on the damaged bytes: read with them (and their neighbours) blanked, "
                f"it reads {shown}", DOUBTFUL, layout=False,
            )  # fmt: skip
            moved += 1
        if moved:
            extraction.notes.append(f"{moved} more cell(s) read differently without the damaged bytes: flagged")
    if _cut_off(doc, spans):
        incomplete = {_section(key) for key, cell in extraction.fields.items() if cell.status == "missing"}
        count = _flag_tables(extraction, incomplete, _CUT_REASON, DOUBTFUL)
        if count:
            extraction.notes.append(f"the file is cut off: {count} cell(s) of incomplete tables are flagged")


def _note(doc: SourceDocument, spans: Sequence[tuple[int, int]], flagged: int) -> str:
    parts = [f"damaged source: {doc.damage}" if doc.damage else "damaged source"]
    if spans:
        total = sum(end - start for start, end in spans)
        listed = ", ".join(_where(span) for span in spans[:_LISTED])
        more = f" and {len(spans) - _LISTED} more place(s)" if len(spans) > _LISTED else ""
        parts.append(f"{total} replaced character(s) in the text at {listed}{more}")
        parts.append(f"{flagged} cell(s) touch them and are flagged" if flagged else "no cell touches them")
    else:
        parts.append("none of it is in the text the tables are read from")
    return "; ".join(parts)
