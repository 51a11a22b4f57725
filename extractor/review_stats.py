"""What the review queue and the dashboard ask the database: a few aggregate queries, never one per document.

The queue ranks documents by how much of their newest finished reading still needs a reviewer.
A cell is *flagged* when its confidence is below `FLAG_BELOW` or it is missing (the document page
marks the same cells), and it stays *open* until a reviewer corrected or accepted it. A document's
review weight is the sum over its open flags of `FLAG_BELOW - confidence`: the confidence scale
is a ladder of named levels where lower means more likely wrong, so the distance below the flag
line approximates the work a cell will cost. A PROBABLE cell (0.85) barely needs a glance (0.05),
one in a broken sum (0.7) weighs 0.2, a SUSPECT one (0.3) 0.6, a missing one 0.9 — a count alone
would rank a page of near-certain cells above a few that are almost surely wrong. Documents marked
reviewed come last whatever their flags.

The dashboard counts documents by status, flags by section and by cause, and the reviewers'
corrections per field, with the share of reviewed documents in which that field was corrected:
the reader's error rate as measured in production.

Speed: what a finished run's flags add up to never changes (review appends corrections; a new
reading is a new run, its conflicts flagged before its fields are written), so each run's flag
totals, its flagged reasons and the dashboard's breakdown are computed once per process and
database and kept; a page then costs one light row per document plus the corrections. At 1,000
documents (200,000 fields) the queue and the dashboard answer in ~50 ms once warm.

Everything here takes a SQLAlchemy `Session` (a `Service.session()`), runs on SQLite and
PostgreSQL, and does not import any door.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import (
    Connection,
    Engine,
    Select,
    String,
    and_,
    case,
    cast,
    distinct,
    func,
    literal,
    literal_column,
    or_,
    select,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from extractor.confidence import FLAG_BELOW
from extractor.flag_groups import NO_REASON, normalise, section_of
from extractor.storage import repository
from extractor.storage.models import CorrectionRow, DocumentRow, FieldRow, ReviewRow, RunRow
from schemas import DISCLOSURE_REPORT, ReportType

DOCUMENT_STATUSES = ("queued", "processing", "done", "failed")
REVIEW_STATUSES = ("unreviewed", "reviewed")
MAX_PAGE = 500
# SQLite's default limit on bound parameters is 32766 (999 before 3.32); stay well under either.
_ID_CHUNK = 900


# ------------------------------------------------------------------------------------ the pieces


def flagged() -> ColumnElement[bool]:
    """A field a reviewer should look at: below the flag line, or not found at all."""
    return or_(FieldRow.confidence < FLAG_BELOW, FieldRow.status == "missing")


def _weight() -> ColumnElement[Any]:
    """One open flag's weight: how far below the flag line it is (never negative)."""
    below = literal(FLAG_BELOW) - FieldRow.confidence
    return case((below > 0, below), else_=literal(0.0))


def _latest_done_runs() -> Any:
    """Each document's newest finished run: the cells a reviewer works on."""
    return (
        select(RunRow.document_id, func.max(RunRow.id).label("run_id"))
        .where(RunRow.status == "done")
        .group_by(RunRow.document_id)
        .subquery()
    )


def _reviewed_cells() -> Any:
    """(run, key) pairs a reviewer corrected or accepted: no longer open."""
    return select(CorrectionRow.run_id, CorrectionRow.key).distinct().subquery()


def reason_needle(text: str, dialect: str) -> str:
    """`text` as it appears inside the stored reasons JSON, to search it with LIKE.

    SQLite keeps the JSON as SQLAlchemy's `json.dumps` wrote it (non-ASCII as \\uXXXX escapes);
    PostgreSQL's `jsonb::text` prints characters as they are. Either way quotes and backslashes
    are escaped, so the needle is the JSON string's body in the same spelling.
    """
    return json.dumps(text, ensure_ascii=dialect != "postgresql")[1:-1]


# --------------------------------------------------------------------------------------- the queue


@dataclass(frozen=True)
class QueueFilters:
    """The queue's filters; None means any. `reason`: some flagged cell's reasons contain this text."""

    agency: str | None = None
    year: int | None = None
    template: str | None = None
    status: str | None = None
    review: str | None = None
    reason: str | None = None
    # The compilation file (a 汇编) the documents were cut from: its sha256, or text in its name.
    file: str | None = None


@dataclass(frozen=True)
class QueueItem:
    id: int
    name: str
    agency: str | None
    year: int | None
    template: str | None
    status: str
    review: str
    flags: int  # flagged cells of the newest finished run
    open_flags: int  # of those, not yet corrected or accepted
    weight: float  # sum of FLAG_BELOW - confidence over the open flags
    corrections: int  # reviewers' `correct` actions on that run
    accepts: int
    error: str | None = None
    file: str | None = None  # the compilation file this document is part `part` of `parts` of
    file_sha256: str | None = None
    part: int | None = None
    parts: int | None = None


@dataclass(frozen=True)
class QueuePage:
    total: int
    items: list[QueueItem]


def _latest_done_ids() -> Select[Any]:
    return select(func.max(RunRow.id)).where(RunRow.status == "done").group_by(RunRow.document_id)


# Per database (engine): (run id, run key) → (flags, weight). A finished run's fields never change
# (review appends corrections; a new reading is a new run), so what a run's flags add up to can be
# kept once computed. This turns the queue's only heavy work, a pass over every flagged field
# (~150,000 rows at 1,000 documents: 100-250 ms on SQLite), into a pass over the new runs only.
_RUN_FLAGS: WeakKeyDictionary[Engine, dict[tuple[int, str], tuple[int, float]]] = WeakKeyDictionary()
_RUN_FLAGS_LOCK = threading.Lock()


def _engine(session: Session) -> Engine:
    bind = session.get_bind()
    return bind.engine if isinstance(bind, Connection) else bind


def run_flag_totals(session: Session, runs: Mapping[int, str]) -> dict[int, tuple[int, float]]:
    """(flagged cells, their total weight) of each finished run {id: idempotency key}; computed once per run."""
    with _RUN_FLAGS_LOCK:
        cache = _RUN_FLAGS.setdefault(_engine(session), {})
        missing = [run_id for run_id, key in runs.items() if (run_id, key) not in cache]
    for start in range(0, len(missing), _ID_CHUNK):
        chunk = missing[start : start + _ID_CHUNK]
        rows = session.execute(
            select(FieldRow.run_id, func.count(), func.sum(_weight()))
            .where(flagged(), FieldRow.run_id.in_(chunk))
            .group_by(FieldRow.run_id)
        ).all()
        found = {run_id: (int(n), float(w or 0.0)) for run_id, n, w in rows}
        with _RUN_FLAGS_LOCK:
            for run_id in chunk:
                cache[(run_id, runs[run_id])] = found.get(run_id, (0, 0.0))
    with _RUN_FLAGS_LOCK:
        return {run_id: cache[(run_id, key)] for run_id, key in runs.items()}


# Per database: (run id, run key) → the distinct reason lists of the run's flagged cells, as stored
# (JSON text) and lowercased. Same reasoning as `_RUN_FLAGS`: a reason search after the first is a
# substring test over one string per document, not a LIKE over every flagged field.
_RUN_REASONS: WeakKeyDictionary[Engine, dict[tuple[int, str], str]] = WeakKeyDictionary()


def run_reason_texts(session: Session, runs: Mapping[int, str]) -> dict[int, str]:
    """The flagged cells' reasons of each finished run {id: idempotency key}, to search with `reason_needle`."""
    postgres = session.get_bind().dialect.name == "postgresql"
    text = cast(FieldRow.reasons, String)
    joined = (
        func.string_agg(distinct(text), literal_column("E'\\n'")) if postgres else func.group_concat(distinct(text))
    )
    with _RUN_FLAGS_LOCK:
        cache = _RUN_REASONS.setdefault(_engine(session), {})
        missing = [run_id for run_id, key in runs.items() if (run_id, key) not in cache]
    for start in range(0, len(missing), _ID_CHUNK):
        chunk = missing[start : start + _ID_CHUNK]
        rows = session.execute(
            select(FieldRow.run_id, joined).where(flagged(), FieldRow.run_id.in_(chunk)).group_by(FieldRow.run_id)
        ).all()
        found = {run_id: (value or "").lower() for run_id, value in rows}
        with _RUN_FLAGS_LOCK:
            for run_id in chunk:
                cache[(run_id, runs[run_id])] = found.get(run_id, "")
    with _RUN_FLAGS_LOCK:
        return {run_id: cache[(run_id, key)] for run_id, key in runs.items()}


def _closed_flags(session: Session) -> dict[int, tuple[int, float]]:
    """Per run: flagged cells a reviewer has corrected or accepted, and their weight (few rows: the
    corrections lead, each finds its field by the (run_id, key) index)."""
    reviewed = _reviewed_cells()
    rows = session.execute(
        select(FieldRow.run_id, func.count(), func.sum(_weight()))
        .join(reviewed, and_(reviewed.c.run_id == FieldRow.run_id, reviewed.c.key == FieldRow.key))
        .where(flagged())
        .group_by(FieldRow.run_id)
    ).all()
    return {run_id: (int(n), float(w or 0.0)) for run_id, n, w in rows}


def _correction_counts(session: Session) -> dict[int, tuple[int, int]]:
    """Per run: the reviewers' corrections and accepts."""
    rows = session.execute(
        select(
            CorrectionRow.run_id,
            func.sum(case((CorrectionRow.action == "correct", 1), else_=0)),
            func.sum(case((CorrectionRow.action == "accept", 1), else_=0)),
        ).group_by(CorrectionRow.run_id)
    ).all()
    return {run_id: (int(c), int(a)) for run_id, c, a in rows}


@dataclass(frozen=True)
class _Base:
    """The queue's documents with their status and labels, filtered; no aggregates (cheap to count)."""

    stmt: Select[Any]


def _filtered(session: Session, filters: QueueFilters, processing: Collection[int]) -> _Base:
    latest = repository.shown_runs()
    latest_done = _latest_done_runs()
    status_run = RunRow.__table__.alias("status_run")
    done_run = RunRow.__table__.alias("done_run")
    reviewed = func.coalesce(ReviewRow.status, "unreviewed")
    # What a reviewer sees of the document: the finished run's reading, else whatever the newest run says.
    agency = func.coalesce(done_run.c.agency, status_run.c.agency)
    year = func.coalesce(done_run.c.year, status_run.c.year)
    template = func.coalesce(done_run.c.template, status_run.c.template)
    stmt = (
        select(
            DocumentRow.id,
            DocumentRow.name,
            DocumentRow.parent_name,
            DocumentRow.parent_sha256,
            DocumentRow.part_index,
            DocumentRow.part_count,
            agency.label("agency"),
            year.label("year"),
            template.label("template"),
            status_run.c.status.label("run_status"),
            status_run.c.error.label("error"),
            reviewed.label("review"),
            done_run.c.id.label("done_run_id"),
            done_run.c.idempotency_key.label("done_run_key"),
        )
        .select_from(DocumentRow)
        .outerjoin(latest, latest.c.document_id == DocumentRow.id)
        .outerjoin(status_run, status_run.c.id == latest.c.run_id)
        .outerjoin(latest_done, latest_done.c.document_id == DocumentRow.id)
        .outerjoin(done_run, done_run.c.id == latest_done.c.run_id)
        .outerjoin(ReviewRow, ReviewRow.document_id == DocumentRow.id)
    )
    if filters.agency:
        stmt = stmt.where(agency.contains(filters.agency, autoescape=True))
    if filters.year is not None:
        stmt = stmt.where(year == filters.year)
    if filters.template:
        stmt = stmt.where(template == filters.template)
    busy = sorted(processing)
    if filters.status == "processing":
        stmt = stmt.where(status_run.c.id.is_(None), DocumentRow.id.in_(busy))
    elif filters.status == "queued":
        stmt = stmt.where(status_run.c.id.is_(None))
        if busy:
            stmt = stmt.where(DocumentRow.id.not_in(busy))
    elif filters.status:
        stmt = stmt.where(status_run.c.status == filters.status)
    if filters.review:
        stmt = stmt.where(reviewed == filters.review)
    if filters.file:
        stmt = stmt.where(
            or_(DocumentRow.parent_sha256 == filters.file.lower(),
                DocumentRow.parent_name.contains(filters.file, autoescape=True))
        )  # fmt: skip
    if filters.reason:  # only finished runs have flags; the text itself is matched in `queue`
        stmt = stmt.where(latest_done.c.run_id.is_not(None))
    return _Base(stmt)


def queue(
    session: Session, filters: QueueFilters = QueueFilters(), *, limit: int = 50, offset: int = 0,
    processing: Collection[int] = frozenset(),
) -> QueuePage:  # fmt: skip
    """One page of the review queue, most review work first, reviewed documents last.

    `processing`: ids a worker is reading now (the dispatcher knows, the database does not).
    A fixed number of queries whatever the number of documents: the filtered documents (light
    columns, one row each), the reviewers' corrections per run, and the flag totals (and, for a
    reason filter, the flagged reasons) of runs not seen before. The reason filter and the ranking
    are then a pass and a sort over those rows in Python.
    """
    if not 0 < limit <= MAX_PAGE or offset < 0:
        raise ValueError(f"limit is 1 to {MAX_PAGE}, offset at least 0")
    rows = session.execute(_filtered(session, filters, processing).stmt).all()
    if filters.reason:
        needle = reason_needle(filters.reason, session.get_bind().dialect.name).lower()
        texts = run_reason_texts(session, {r.done_run_id: r.done_run_key for r in rows})
        rows = [r for r in rows if needle in texts[r.done_run_id]]
    totals = run_flag_totals(session, {r.done_run_id: r.done_run_key for r in rows if r.done_run_id is not None})
    closed = _closed_flags(session)
    fixes = _correction_counts(session)
    busy = set(processing)
    items = []
    for row in rows:
        flags, weight = totals.get(row.done_run_id, (0, 0.0))
        shut, shut_weight = closed.get(row.done_run_id, (0, 0.0))
        corrections, accepts = fixes.get(row.done_run_id, (0, 0))
        items.append(QueueItem(
            id=row.id, name=row.name, agency=row.agency, year=row.year, template=row.template,
            status=row.run_status or ("processing" if row.id in busy else "queued"), review=row.review,
            flags=flags, open_flags=flags - shut, weight=max(round(weight - shut_weight, 3), 0.0),
            corrections=corrections, accepts=accepts, error=row.error, file=row.parent_name,
            file_sha256=row.parent_sha256, part=row.part_index, parts=row.part_count,
        ))  # fmt: skip
    items.sort(key=lambda i: (i.review == "reviewed", -i.weight, -i.flags, -i.id))
    return QueuePage(len(items), items[offset : offset + limit])


def filter_choices(session: Session) -> dict[str, list[Any]]:
    """The years and templates the stored runs have, for the queue's filter form."""
    years = session.scalars(select(RunRow.year).where(RunRow.year.is_not(None)).distinct().order_by(RunRow.year))
    templates = session.scalars(
        select(RunRow.template).where(RunRow.template.is_not(None)).distinct().order_by(RunRow.template)
    )
    return {"years": list(years), "templates": list(templates)}


# ---------------------------------------------------------------------------------- upload progress


@dataclass(frozen=True)
class Progress:
    counts: dict[str, int]  # queued, processing, done, failed
    statuses: dict[int, str]
    failures: list[dict[str, Any]]  # {id, name, error}
    unknown: list[int]  # ids with no stored document


def progress(session: Session, ids: Sequence[int], processing: Collection[int] = frozenset()) -> Progress:
    """Where each uploaded document is: queued, processing (per the dispatcher), done or failed."""
    wanted = sorted(set(ids))
    busy = set(processing)
    statuses: dict[int, str] = {}
    failures: list[dict[str, Any]] = []
    for start in range(0, len(wanted), _ID_CHUNK):
        chunk = wanted[start : start + _ID_CHUNK]
        latest = (
            select(RunRow.document_id, func.max(RunRow.id).label("run_id"))
            .where(RunRow.document_id.in_(chunk))
            .group_by(RunRow.document_id)
            .subquery()
        )
        stmt = (
            select(DocumentRow.id, DocumentRow.name, RunRow.status, RunRow.error)
            .outerjoin(latest, latest.c.document_id == DocumentRow.id)
            .outerjoin(RunRow, RunRow.id == latest.c.run_id)
            .where(DocumentRow.id.in_(chunk))
        )
        for row in session.execute(stmt):
            status = row.status or ("processing" if row.id in busy else "queued")
            statuses[row.id] = status
            if status == "failed":
                failures.append({"id": row.id, "name": row.name, "error": row.error})
    counts = Counter(statuses.values())
    return Progress(
        counts={s: counts.get(s, 0) for s in DOCUMENT_STATUSES},
        statuses=statuses,
        failures=sorted(failures, key=lambda f: f["id"]),
        unknown=[i for i in wanted if i not in statuses],
    )


# ---------------------------------------------------------------------------------------- causes


def cause(reason: str) -> str:
    """The cause a reason names: the document page's grouping (`flag_groups.normalise`), so the
    dashboard and the page count the same problem under the same words."""
    return normalise(reason) if reason.strip() else NO_REASON


# ------------------------------------------------------------------------------------- dashboard


@dataclass
class Dashboard:
    documents: dict[str, int]  # queued, processing, done, failed
    review: dict[str, int]  # unreviewed, reviewed
    flagged_documents: int  # done documents with at least one flag
    flags_total: int
    flags_by_section: list[tuple[str, int]]
    flags_by_cause: list[tuple[str, int]]
    # key, corrections, accepts, reviewed documents where it was corrected, their share of the reviewed
    corrections: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["flags_by_section"] = [{"section": s, "flags": n} for s, n in self.flags_by_section]
        out["flags_by_cause"] = [{"cause": c, "flags": n} for c, n in self.flags_by_cause]
        return out


def _document_counts(session: Session, processing: Collection[int]) -> tuple[dict[str, int], dict[str, int]]:
    latest = repository.shown_runs()
    rows = session.execute(
        select(RunRow.status, func.count())
        .select_from(DocumentRow)
        .outerjoin(latest, latest.c.document_id == DocumentRow.id)
        .outerjoin(RunRow, RunRow.id == latest.c.run_id)
        .group_by(RunRow.status)
    ).all()
    counts = {s: 0 for s in DOCUMENT_STATUSES}
    for status, n in rows:
        counts[status or "queued"] += int(n)
    if processing:
        unread = set(
            session.scalars(
                select(DocumentRow.id).where(
                    DocumentRow.id.in_(sorted(processing)[:_ID_CHUNK]),
                    ~select(RunRow.id).where(RunRow.document_id == DocumentRow.id).exists(),
                )
            )
        )
        counts["processing"] = len(unread)
        counts["queued"] -= len(unread)
    total = sum(counts.values())
    reviewed = session.scalar(select(func.count()).select_from(ReviewRow).where(ReviewRow.status == "reviewed")) or 0
    return counts, {"unreviewed": total - reviewed, "reviewed": reviewed}


Breakdown = tuple[list[tuple[str, int]], list[tuple[str, int]]]  # (flags by section, flags by cause)
# Per database: the breakdown and the set of newest finished runs it was computed over. It depends
# on nothing else (fields never change), so it is recomputed only when a reading finishes.
_BREAKDOWN: WeakKeyDictionary[Engine, tuple[frozenset[int], Breakdown]] = WeakKeyDictionary()


def _breakdown(session: Session, runs: frozenset[int]) -> Breakdown:
    """Flags by section and by cause over `runs`: one pass grouping by (key, reasons)."""
    engine = _engine(session)
    with _RUN_FLAGS_LOCK:
        cached = _BREAKDOWN.get(engine)
    if cached is not None and cached[0] == runs:
        return cached[1]
    # Identical (key, reason list) pairs are grouped by the database; only the distinct ones come here.
    rows = session.execute(
        select(FieldRow.key, FieldRow.reasons, func.count())
        .where(flagged(), FieldRow.run_id.in_(_latest_done_ids()))
        .group_by(FieldRow.key, FieldRow.reasons)
    ).all()
    sections: Counter[str] = Counter()
    causes: Counter[str] = Counter()
    for key, reasons, n in rows:
        sections[section_of(key)] += int(n)
        for name in {cause(r) for r in (reasons or [])} or {NO_REASON}:
            causes[name] += int(n)
    result: Breakdown = (sorted(sections.items()), causes.most_common())
    with _RUN_FLAGS_LOCK:
        _BREAKDOWN[engine] = (runs, result)
    return result


def _flag_counts(session: Session) -> tuple[int, int, list[tuple[str, int]], list[tuple[str, int]]]:
    stmt = select(RunRow.id, RunRow.idempotency_key).where(RunRow.id.in_(_latest_done_ids()))
    runs = {run_id: key for run_id, key in session.execute(stmt)}
    totals = run_flag_totals(session, runs)
    sections, causes = _breakdown(session, frozenset(runs))
    documents = sum(1 for flags, _weight in totals.values() if flags)
    return documents, sum(flags for flags, _weight in totals.values()), sections, causes


def _reviewed_by_template(session: Session) -> Counter[str]:
    """Reviewed documents by the template of their newest finished run."""
    latest_done = _latest_done_runs()
    rows = session.execute(
        select(RunRow.template, func.count())
        .join(latest_done, latest_done.c.run_id == RunRow.id)
        .join(ReviewRow, ReviewRow.document_id == RunRow.document_id)
        .where(ReviewRow.status == "reviewed", RunRow.template.is_not(None))
        .group_by(RunRow.template)
    ).all()
    return Counter({str(template): int(n) for template, n in rows})


def _template_keys(report: ReportType, template: str) -> frozenset[str]:
    try:
        return frozenset(report.template(template).keys)
    except KeyError:
        return frozenset()


def _corrections(session: Session, report: ReportType) -> list[dict[str, Any]]:
    """Per field: corrections and accepts, and the error rate — of the reviewed documents whose template
    has the field, the share in which a reviewer corrected it (a field of one template only is not
    diluted by documents of the other)."""
    counts = session.execute(
        select(
            CorrectionRow.key,
            func.sum(case((CorrectionRow.action == "correct", 1), else_=0)),
            func.sum(case((CorrectionRow.action == "accept", 1), else_=0)),
        ).group_by(CorrectionRow.key)
    ).all()
    in_reviewed = dict(
        session.execute(
            select(CorrectionRow.key, func.count(func.distinct(RunRow.document_id)))
            .join(RunRow, RunRow.id == CorrectionRow.run_id)
            .join(ReviewRow, ReviewRow.document_id == RunRow.document_id)
            .where(ReviewRow.status == "reviewed", CorrectionRow.action == "correct")
            .group_by(CorrectionRow.key)
        ).all()
    )
    by_template = _reviewed_by_template(session)
    keys = {template: _template_keys(report, template) for template in by_template}
    out = []
    for key, corrected, accepted in counts:
        documents = int(in_reviewed.get(key, 0))
        reviewed = sum(n for template, n in by_template.items() if key in keys[template])
        out.append({
            "key": key, "corrections": int(corrected), "accepts": int(accepted), "reviewed_documents": documents,
            "reviewed_with_field": reviewed, "error_rate": round(documents / reviewed, 4) if reviewed else None,
        })  # fmt: skip
    out.sort(key=lambda c: (-c["corrections"], -c["accepts"], c["key"]))
    return out


def dashboard(
    session: Session, processing: Collection[int] = frozenset(), report: ReportType = DISCLOSURE_REPORT
) -> Dashboard:
    """Every figure of the dashboard, in a handful of grouped queries."""
    documents, review = _document_counts(session, processing)
    flagged_documents, total, sections, causes = _flag_counts(session)
    return Dashboard(
        documents=documents, review=review, flagged_documents=flagged_documents, flags_total=total,
        flags_by_section=sections, flags_by_cause=causes, corrections=_corrections(session, report),
    )  # fmt: skip


def parse_ids(values: Iterable[str | int], limit: int) -> list[int]:
    """Document ids from a comma list or JSON numbers: positive, at most `limit` of them."""
    out: list[int] = []
    for value in values:
        for part in str(value).split(","):
            part = part.strip()
            if not part:
                continue
            number = int(part)
            if not 0 < number < 2**31:
                raise ValueError(f"not a document id: {part}")
            out.append(number)
            if len(out) > limit:
                raise ValueError(f"at most {limit} ids")
    return out
