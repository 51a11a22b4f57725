"""Exports for analysts (CSV, Excel, JSON) and reviewed documents as gold files.

What an analyst wants is the data as reviewers left it: the reader's values with every
reviewer's newest correction applied, and for each cell whether it was read, counted as blank,
inferred, left missing, is still flagged, or was corrected or accepted by a reviewer. The
extracted value is kept beside the corrected one (the long table), so nothing a reader did is
hidden by an export.

Cells of paged documents (PDF, scans) also say where they were printed: the JSON export's `boxes`
(key → page and box in page units, origin top-left) and the long table's `page` column.

One report per document: its newest *done* run (of one reader when `reader` is given). The
database is read in chunks of runs, three queries per chunk (runs, fields, corrections), so an
export of thousands of documents costs a few dozen queries, never one per document or field.

Review status comes from storage's `reviews` table when it has one (`stored_reviews`), else
every document is "unreviewed"; a door that knows the status another way passes its own
`reviews` lookup. `reviewed_only` keeps documents whose status is "reviewed".

Every function here is read-only and takes the caller's `Session` (`Service.session()` makes one).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from extractor.model import FieldValue, Number, Status
from extractor.storage import models
from extractor.storage.models import CorrectionRow, DocumentRow, FieldRow, RunRow, to_number
from schemas import DISCLOSURE_REPORT, ReportType

CellStatus = Literal["read", "blank", "inferred", "missing", "flagged", "corrected", "accepted"]
Format = Literal["csv", "xlsx", "json"]
Kind = Literal["wide", "long"]

UNREVIEWED = "unreviewed"
REVIEWED = "reviewed"
# Statuses that still want a reviewer's eye: counted in the wide table, listed as flags in JSON.
NEEDS_REVIEW: frozenset[str] = frozenset({"flagged", "inferred", "missing"})
MEDIA_TYPES: dict[str, str] = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
}
REPORT_COLUMNS = ("document_id", "name", "sha256", "agency", "year", "template", "reader", "reader_version",
                  "run_id", "review_status", "flagged", "corrected")  # fmt: skip
LONG_COLUMNS = ("document_id", "name", "field", "value", "status", "reviewer", "time", "extracted", "page")
CHUNK = 500  # runs per query: well under SQLite's bound-parameter limit, few round trips

# (session, document ids of one chunk) -> {document id: (review status, review version)}; one query a chunk.
ReviewLookup = Callable[[Session, Sequence[int]], dict[int, tuple[str, int | None]]]


@dataclass(frozen=True)
class Cell:
    """One field as an export shows it: the effective value, where it came from, who changed it."""

    key: str
    value: Number | None
    status: CellStatus
    extracted: Number | None = None  # what the reader (and reconciler) left, before any review
    reasons: tuple[str, ...] = ()
    reviewer: str = ""
    time: datetime | None = None
    box: tuple[int, float, float, float, float] | None = None  # where it was printed: page, x0, top, x1, bottom

    @property
    def page(self) -> int | None:
        return None if self.box is None else self.box[0]


@dataclass(frozen=True)
class ReportRow:
    """One document's newest done run with its cells in printed order."""

    document_id: int
    run_id: int
    name: str
    sha256: str
    kind: str
    doc: str
    agency: str | None
    year: int | None
    template: str | None
    reader: str
    reader_version: str
    review_status: str
    review_version: int | None
    cells: dict[str, Cell] = field(default_factory=dict)

    @property
    def flagged(self) -> int:
        return sum(1 for cell in self.cells.values() if cell.status in NEEDS_REVIEW)

    @property
    def corrected(self) -> int:
        return sum(1 for cell in self.cells.values() if cell.status in ("corrected", "accepted"))

    def values(self) -> dict[str, Number]:
        return {key: cell.value for key, cell in self.cells.items() if cell.value is not None}

    def flat(self) -> dict[str, Any]:
        """The FIELDS.md object with corrected values, plus which document and review it is."""
        return {
            "doc": self.doc,
            "template": self.template,
            "year": self.year,
            "agency": self.agency,
            "fields": self.values(),
            "flags": {
                k: list(c.reasons) or ["low confidence"] for k, c in self.cells.items() if c.status in NEEDS_REVIEW
            },
            "document_id": self.document_id,
            "name": self.name,
            "sha256": self.sha256,
            "run_id": self.run_id,
            "reader": self.reader,
            "reader_version": self.reader_version,
            "review": {"status": self.review_status, "version": self.review_version, "corrected": self.corrected},
            "boxes": {
                k: dict(zip(("page", "x0", "top", "x1", "bottom"), c.box, strict=True))
                for k, c in self.cells.items()
                if c.box is not None
            },
        }

    def gold_fields(self) -> dict[str, Number]:
        """What the document shows, as reviewers confirmed it: inferred and missing cells are left
        out (FIELDS.md: gold holds only cells the document shows), reviewed ones kept."""
        return {
            key: cell.value
            for key, cell in self.cells.items()
            if cell.value is not None and cell.status not in ("inferred", "missing")
        }


# -- classification --------------------------------------------------------------------------


def classify_correction(correction: object) -> Literal["corrected", "accepted"]:
    """A correction row's kind: "accepted" when it confirms the value (an `action` of "accept",
    once storage has that column), else "corrected" (a reviewer gave a value)."""
    action = getattr(correction, "action", None)
    return "accepted" if isinstance(action, str) and action.lower() in ("accept", "accepted") else "corrected"


def extracted_status(field_value: FieldValue) -> CellStatus:
    """A reader's cell before review: inferred/missing as such, other doubtful cells "flagged"."""
    if field_value.status in ("inferred", "missing"):
        return field_value.status
    if field_value.flagged:
        return "flagged"
    return field_value.status


def stored_reviews(session: Session, document_ids: Sequence[int]) -> dict[int, tuple[str, int | None]]:
    """Review status and version per document, from the `reviews` table when storage has one.

    Looked up by name, not imported: exports work on a database from before reviews were stored
    (every document then is "unreviewed"). Documents without a row are left out (unreviewed).
    """
    table = getattr(models, "ReviewRow", None)
    if table is None or not document_ids:
        return {}
    stmt = select(table.document_id, table.status, table.version).where(table.document_id.in_(document_ids))
    return {int(doc_id): (str(status), None if version is None else int(version)) for doc_id, status, version in
            session.execute(stmt)}  # fmt: skip


def field_columns(report: ReportType = DISCLOSURE_REPORT) -> list[str]:
    """Every key of every template, each where it is printed: a key only one template has goes
    right after the key it follows there, so table 3's rows of both templates stay together."""
    keys: list[str] = []
    seen: set[str] = set()
    for template in report.templates:
        position = 0
        for key in template.field_keys():
            if key in seen:
                position = keys.index(key) + 1
                continue
            keys.insert(position, key)
            seen.add(key)
            position += 1
    return keys


# -- reading the database --------------------------------------------------------------------


def _newest_done_runs(reader: str | None) -> Any:
    """Per document, the id of its newest done run (of `reader` when given)."""
    stmt = select(func.max(RunRow.id)).where(RunRow.status == "done")
    if reader is not None:
        stmt = stmt.where(RunRow.reader == reader)
    return stmt.group_by(RunRow.document_id)


# Fields are read as plain column tuples, not ORM objects: an export of thousands of documents
# holds hundreds of thousands of cells, and the session's identity map need not keep them.
_FIELD_COLUMNS = (FieldRow.run_id, FieldRow.key, FieldRow.value, FieldRow.value_is_int, FieldRow.status,
                  FieldRow.confidence, FieldRow.reasons, FieldRow.page, FieldRow.x0, FieldRow.top, FieldRow.x1,
                  FieldRow.bottom)  # fmt: skip
Box = tuple[int, float, float, float, float]


def _box(page: int | None, x0: float | None, top: float | None, x1: float | None, bottom: float | None) -> Box | None:
    if page is None or x0 is None or top is None or x1 is None or bottom is None:
        return None
    return (page, x0, top, x1, bottom)


def _field_value(key: str, value: Any, is_int: bool | None, status: str, confidence: float,
                 reasons: list[str] | None) -> FieldValue:  # fmt: skip
    checked: Status = status  # type: ignore[assignment]  # the CHECK constraint guarantees it
    return FieldValue(key=key, value=to_number(value, is_int), status=checked, confidence=confidence,
                      reasons=list(reasons or []))  # fmt: skip


def _utc(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; they were written in UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def _cells(template_keys: Sequence[str], fields: list[tuple[FieldValue, Box | None]],
           corrections: list[CorrectionRow]) -> dict[str, Cell]:  # fmt: skip
    """A run's cells: the reader's, then its corrections oldest first, so the newest wins (a corrected
    cell keeps the box where the reader found it: that is where the reviewer checked it)."""
    cells: dict[str, Cell] = {}
    for value, box in fields:
        cells[value.key] = Cell(value.key, value.value, extracted_status(value), value.value, tuple(value.reasons),
                                box=box)  # fmt: skip
    for correction in corrections:
        before = cells.get(correction.key)
        kind = classify_correction(correction)
        previous = before.value if before else None
        shown = previous if kind == "accepted" else correction.new  # an accept confirms what was shown
        cells[correction.key] = Cell(correction.key, shown, kind, before.extracted if before else None, (),
                                     correction.reviewer, _utc(correction.created_at),
                                     before.box if before else None)  # fmt: skip
    order = {key: index for index, key in enumerate(template_keys)}
    return dict(sorted(cells.items(), key=lambda item: (order.get(item[0], len(order)), item[0])))


def iter_reports(
    session: Session,
    *,
    reader: str | None = None,
    reviewed_only: bool = False,
    reviews: ReviewLookup | None = None,
    report: ReportType = DISCLOSURE_REPORT,
) -> Iterator[ReportRow]:
    """Each document's newest done run with review applied, by document id, a chunk at a time."""
    stmt = (
        select(RunRow, DocumentRow)
        .join(DocumentRow, RunRow.document_id == DocumentRow.id)
        .where(RunRow.id.in_(_newest_done_runs(reader)))
        .order_by(DocumentRow.id)
    )
    pairs = [(run, document) for run, document in session.execute(stmt)]
    keys_of = {template.version: template.field_keys() for template in report.templates}
    for start in range(0, len(pairs), CHUNK):
        chunk = pairs[start : start + CHUNK]
        found = (reviews or stored_reviews)(session, [document.id for _, document in chunk])
        review = {document.id: found.get(document.id, (UNREVIEWED, None)) for _, document in chunk}
        if reviewed_only:
            chunk = [(run, document) for run, document in chunk if review[document.id][0] == REVIEWED]
        ids = [run.id for run, _ in chunk]
        if not ids:
            continue
        fields: dict[int, list[tuple[FieldValue, Box | None]]] = {run_id: [] for run_id in ids}
        stmt_f = select(*_FIELD_COLUMNS).where(FieldRow.run_id.in_(ids)).order_by(FieldRow.id)
        for run_id, key, value, is_int, status, confidence, reasons, *box in session.execute(stmt_f):
            fields[run_id].append((_field_value(key, value, is_int, status, confidence, reasons), _box(*box)))
        corrections: dict[int, list[CorrectionRow]] = {run_id: [] for run_id in ids}
        stmt_c = select(CorrectionRow).where(CorrectionRow.run_id.in_(ids)).order_by(CorrectionRow.id)
        for correction in session.scalars(stmt_c):
            corrections[correction.run_id].append(correction)
        for run, document in chunk:
            yield ReportRow(
                document_id=document.id, run_id=run.id, name=document.name, sha256=document.sha256,
                kind=document.kind, doc=run.doc, agency=run.agency, year=run.year, template=run.template,
                reader=run.reader, reader_version=run.reader_version, review_status=review[document.id][0],
                review_version=review[document.id][1],
                cells=_cells(keys_of.get(run.template or "", []), fields[run.id], corrections[run.id]),
            )  # fmt: skip


def load_reports(session: Session, **options: Any) -> list[ReportRow]:
    """`iter_reports` as a list (for exports that walk the reports twice, e.g. two sheets)."""
    return list(iter_reports(session, **options))


# -- tables ----------------------------------------------------------------------------------


def _text(value: object) -> str:
    """A cell as CSV text: numbers as printed (no float noise), times in ISO 8601, None empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    return str(value)


def wide_header(report: ReportType = DISCLOSURE_REPORT) -> list[str]:
    return [*REPORT_COLUMNS, *field_columns(report)]


def wide_row(row: ReportRow, columns: Sequence[str]) -> list[Any]:
    """One report: who and what it is, then every field key's effective value (empty if absent)."""
    head = [row.document_id, row.name, row.sha256, row.agency, row.year, row.template, row.reader,
            row.reader_version, row.run_id, row.review_status, row.flagged, row.corrected]  # fmt: skip
    return head + [row.cells[key].value if key in row.cells else None for key in columns[len(head) :]]


def long_rows(row: ReportRow) -> Iterator[list[Any]]:
    """One line per cell: value, status, the newest reviewer and time, the extracted value, and the
    page it was printed on (empty for text and HTML)."""
    for cell in row.cells.values():
        yield [row.document_id, row.name, cell.key, cell.value, cell.status, cell.reviewer, cell.time, cell.extracted,
               cell.page]  # fmt: skip


def write_csv(reports: Iterable[ReportRow], out: io.TextIOBase | Any, kind: Kind = "wide",
              report: ReportType = DISCLOSURE_REPORT) -> None:  # fmt: skip
    """CSV to a text stream opened with encoding "utf-8-sig" (the BOM lets Excel read Chinese)."""
    writer = csv.writer(out, lineterminator="\r\n")
    if kind == "wide":
        header = wide_header(report)
        writer.writerow(header)
        for row in reports:
            writer.writerow([_text(v) for v in wide_row(row, header)])
    elif kind == "long":
        writer.writerow(LONG_COLUMNS)
        for row in reports:
            writer.writerows([_text(v) for v in line] for line in long_rows(row))
    else:
        raise ValueError(f"unknown kind {kind!r}: wide or long")


def to_csv(reports: Iterable[ReportRow], kind: Kind = "wide", report: ReportType = DISCLOSURE_REPORT) -> bytes:
    """The CSV file's bytes: UTF-8 with a BOM."""
    buffer = io.StringIO()
    write_csv(reports, buffer, kind, report)
    return buffer.getvalue().encode("utf-8-sig")


def _xlsx_value(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")  # Excel has no time zones; keep the offset as text
    return value


def to_xlsx(reports: Iterable[ReportRow], report: ReportType = DISCLOSURE_REPORT) -> bytes:
    """A workbook with two sheets, "wide" and "long", header rows frozen; numbers stay numbers."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)  # rows stream to temp files: memory stays flat
    wide = book.create_sheet("wide")
    long = book.create_sheet("long")
    wide.freeze_panes = "A2"
    long.freeze_panes = "A2"
    header = wide_header(report)
    wide.append(header)
    long.append(list(LONG_COLUMNS))
    for row in reports:
        wide.append([_xlsx_value(v) for v in wide_row(row, header)])
        for line in long_rows(row):
            long.append([_xlsx_value(v) for v in line])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def to_json(reports: Iterable[ReportRow]) -> bytes:
    """A JSON list of FIELDS.md objects (corrected values) with document and review info."""
    return json.dumps([row.flat() for row in reports], ensure_ascii=False, indent=1).encode("utf-8")


def export_bytes(
    session: Session,
    fmt: Format,
    *,
    kind: Kind = "wide",
    reviewed_only: bool = False,
    reader: str | None = None,
    reviews: ReviewLookup | None = None,
    report: ReportType = DISCLOSURE_REPORT,
) -> bytes:
    """The whole export as one file's bytes (`MEDIA_TYPES[fmt]` is its content type).

    `kind` matters for CSV only (one table per file); Excel holds both, JSON neither.
    """
    reports = iter_reports(session, reader=reader, reviewed_only=reviewed_only, reviews=reviews,
                           report=report)  # fmt: skip
    if fmt == "csv":
        return to_csv(reports, kind, report)
    if fmt == "xlsx":
        return to_xlsx(reports, report)
    if fmt == "json":
        return to_json(reports)
    raise ValueError(f"unknown export format {fmt!r}: csv, xlsx or json")


# -- gold ------------------------------------------------------------------------------------

# What a stored document's text is saved as: the text every span points into. HTML and PDF are
# stored flattened (the grid text the reader read), so they are saved as text, which reads the same.
_SUFFIXES = {"markdown": ".md", "md": ".md"}
_UNSAFE = re.compile(r"[^\w\-]+")


def safe_name(name: str, fallback: str) -> str:
    """A file stem from a document name: letters (Chinese too), digits, - and _; no dots or paths."""
    stem = name.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    stem = stem.rsplit(".", 1)[0] if "." in stem else stem
    stem = _UNSAFE.sub("-", stem).strip("-_")[:100]
    return stem or fallback


@dataclass(frozen=True)
class GoldFile:
    name: str
    document: Path
    gold: Path
    fields: int
    corrected: int


def write_gold(
    session: Session,
    folder: Path,
    *,
    reviewed_only: bool = True,
    reader: str | None = None,
    reviews: ReviewLookup | None = None,
    report: ReportType = DISCLOSURE_REPORT,
) -> list[GoldFile]:
    """NAME.<ext> (the stored text) + NAME.gold.json (FIELDS.md) for each reviewed document (or
    all), so `gongkai eval` scores any reader against what reviewers confirmed."""
    folder.mkdir(parents=True, exist_ok=True)
    reports = list(iter_reports(session, reader=reader, reviewed_only=reviewed_only, reviews=reviews,
                                report=report))  # fmt: skip
    stems = [safe_name(row.name, f"document-{row.document_id}") for row in reports]
    taken = {stem: stems.count(stem) for stem in stems}
    written: list[GoldFile] = []
    for start in range(0, len(reports), CHUNK):
        chunk = reports[start : start + CHUNK]
        ids = [row.document_id for row in chunk]
        texts = dict(session.execute(select(DocumentRow.id, DocumentRow.text).where(DocumentRow.id.in_(ids))).all())
        for row, stem in zip(chunk, stems[start : start + CHUNK], strict=True):
            name = stem if taken[stem] == 1 else f"{stem}-d{row.document_id}"
            document = folder / f"{name}{_SUFFIXES.get(row.kind, '.txt')}"
            document.write_text(texts[row.document_id], encoding="utf-8")
            gold = {
                "doc": name,
                "template": row.template,
                "year": row.year,
                "agency": row.agency,
                "fields": row.gold_fields(),
                "source": f"gongkai review: document {row.document_id} ({row.name}, sha256 {row.sha256}), "
                f"run {row.run_id} ({row.reader} {row.reader_version})",
                "notes": f"review status {row.review_status}; {row.corrected} cells corrected or accepted by reviewers;"
                f" {row.flagged} cells still flagged",
            }
            path = folder / f"{name}.gold.json"
            path.write_text(json.dumps(gold, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
            written.append(GoldFile(name, document, path, len(row.gold_fields()), row.corrected))
    return written
