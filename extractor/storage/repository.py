"""What the rest of gongkai may do with storage: save, look up, correct, rebuild.

Every function takes the caller's `Session` and flushes but never commits: the caller (CLI
command, API request, worker task) owns the transaction, so a run and its fields land together
or not at all. Inserts that may race (the same document uploaded twice, a Celery task
redelivered while the first delivery is still saving) are done inside a SAVEPOINT; the loser
of the race gets the winner's row back instead of an IntegrityError.

Corrections are an append-only audit trail: there is deliberately no function here that
updates or deletes one, and the model refuses it too (`AppendOnlyError`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy import case, exists, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from extractor.confidence import REVIEWED
from extractor.model import Extraction, FieldValue, Number, Status
from extractor.storage import carry
from extractor.storage.geometry import BoxLike, FieldBox, StoredBox, box_around, parse_boxes, stored_boxes
from extractor.storage.models import (
    CORRECTION_ACTIONS,
    FIELD_STATUSES,
    FILE_STATUSES,
    REVIEW_STATUSES,
    ROLES,
    RUN_STATUSES,
    ApiTokenRow,
    CorrectionRow,
    DocumentRow,
    FieldRow,
    FileRow,
    PageRow,
    ReviewRow,
    RunRow,
    UserRow,
    to_decimal,
    to_number,
)

# A reviewer's value is the best we have: above a clean machine read.
REVIEWED_CONFIDENCE = REVIEWED  # a reviewer's value needs no further review
REVIEW_SOURCE = "review"

_Row = TypeVar("_Row", DocumentRow, RunRow, ReviewRow, FileRow)


class NotFound(LookupError):
    """The run (or document) asked for is not in the database."""


class DocumentLike(Protocol):
    """What storage needs of an ingested document (an `extractor.ingest.SourceDocument` fits)."""

    @property
    def sha256(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def encoding(self) -> str: ...
    @property
    def size(self) -> int: ...
    @property
    def text(self) -> str: ...


class PageLike(Protocol):
    """One page of a paged document (an `extractor.ingest.pages.Page` fits)."""

    @property
    def number(self) -> int: ...
    @property
    def width(self) -> float: ...
    @property
    def height(self) -> float: ...
    @property
    def image(self) -> bytes | None: ...


class PartLike(Protocol):
    """Where a part of a compilation file comes from (an `extractor.ingest.Origin` fits)."""

    @property
    def parent_name(self) -> str: ...
    @property
    def parent_sha256(self) -> str: ...
    @property
    def index(self) -> int: ...
    @property
    def count(self) -> int: ...
    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...


def run_key(sha256: str, reader: str, reader_version: str) -> str:
    """The idempotency key: one run per document content, reader and reader version."""
    return f"{sha256}:{reader}:{reader_version}"


def _insert_or_existing(
    session: Session, row: _Row, find: Callable[[], _Row | None], then: Callable[[_Row], None] | None = None
) -> tuple[_Row, bool]:
    """Insert `row` (and, in the same savepoint, whatever `then` adds); if a unique constraint says
    someone beat us, return theirs.

    Returns (row, created). Any IntegrityError that is not explained by an existing row (a bad
    foreign key, a check constraint) is re-raised.
    """
    try:
        with session.begin_nested():
            session.add(row)
            if then is not None:
                session.flush()
                then(row)
    except IntegrityError:
        existing = find()
        if existing is None:
            raise
        return existing, False
    return row, True


def save_document(
    session: Session, *, sha256: str, name: str, kind: str, encoding: str, size: int, text: str,
    part: PartLike | None = None, pages: Sequence[PageLike] = (), boxes: Sequence[BoxLike] = (),
) -> DocumentRow:  # fmt: skip
    """Store a document once per content hash and return its row.

    The same bytes uploaded under another name are the same document: the first name is kept,
    so runs and corrections for that content are found whatever the file was called. `part`: the
    document is one report cut out of a compilation file (its hash is the part's, not the file's).
    `pages` and `boxes` (paged formats): stored with the document, in the same savepoint, once.
    """

    def find() -> DocumentRow | None:
        return session.scalar(select(DocumentRow).where(DocumentRow.sha256 == sha256))

    existing = find()
    if existing is not None:
        return existing
    row = DocumentRow(sha256=sha256, name=name, kind=kind, encoding=encoding, size=size, text=text,
                      boxes=stored_boxes(boxes) if boxes else None)  # fmt: skip
    if part is not None:
        row.parent_name, row.parent_sha256 = part.parent_name, part.parent_sha256
        row.part_index, row.part_count, row.part_start, row.part_end = part.index, part.count, part.start, part.end

    def add_pages(document: DocumentRow) -> None:
        if pages:
            session.execute(insert(PageRow), [_page_values(document.id, page) for page in pages])

    return _insert_or_existing(session, row, find, add_pages if pages else None)[0]


def _page_values(document_id: int, page: PageLike) -> dict[str, Any]:
    if page.number < 1 or not (page.width > 0 and page.height > 0):
        raise ValueError(f"page {page.number}: a page is numbered from 1 and has a positive size")
    return {"document_id": document_id, "number": page.number, "width": float(page.width),
            "height": float(page.height), "image": page.image}  # fmt: skip


def save_source(session: Session, doc: DocumentLike) -> DocumentRow:
    """`save_document` for anything shaped like an ingested `SourceDocument` (its `origin`, when it
    has one, says which compilation file it was cut from)."""
    part: PartLike | None = getattr(doc, "origin", None)
    return save_document(
        session,
        sha256=doc.sha256,
        name=doc.name,
        kind=doc.kind,
        encoding=doc.encoding,
        size=doc.size,
        text=doc.text,
        part=part,
        pages=getattr(doc, "pages", ()),
        boxes=getattr(doc, "boxes", ()),
    )


def document_pages(session: Session, document_id: int) -> list[PageRow]:
    """A document's pages in order (sizes only: the pictures stay deferred)."""
    return list(session.scalars(select(PageRow).where(PageRow.document_id == document_id).order_by(PageRow.number)))


def page_image(session: Session, document_id: int, number: int) -> bytes | None:
    """The PNG of one page, or None when the document has no such page or the page no picture."""
    stmt = select(PageRow.image).where(PageRow.document_id == document_id, PageRow.number == number)
    image: bytes | None = session.scalar(stmt)
    return image


def document_boxes(document: DocumentRow) -> list[StoredBox]:
    """The document's stored boxes, sorted (empty for text and HTML)."""
    return parse_boxes(document.boxes)


def field_boxes(session: Session, run_id: int) -> dict[str, FieldBox]:
    """Key → (page, x0, top, x1, bottom) for each field of a run printed on a page."""
    stmt = select(FieldRow.key, FieldRow.page, FieldRow.x0, FieldRow.top, FieldRow.x1, FieldRow.bottom).where(
        FieldRow.run_id == run_id, FieldRow.page.is_not(None)
    )
    found: dict[str, FieldBox] = {}
    for key, page, x0, top, x1, bottom in session.execute(stmt):
        if page is not None and x0 is not None and top is not None and x1 is not None and bottom is not None:
            found[key] = (page, x0, top, x1, bottom)
    return found


_NO_BOX: dict[str, Any] = {"page": None, "x0": None, "top": None, "x1": None, "bottom": None}


def _box_values(value: FieldValue, boxes: Sequence[StoredBox]) -> dict[str, Any]:
    box = box_around(boxes, value.span) if boxes and value.span else None
    if box is None:
        return _NO_BOX
    page, x0, top, x1, bottom = box
    return {"page": page, "x0": x0, "top": top, "x1": x1, "bottom": bottom}


def _field_values(value: FieldValue, boxes: Sequence[StoredBox] = ()) -> dict[str, Any]:
    """One field as column values, checked before anything is written; `boxes`: the document's,
    which give the field its page and box."""
    if value.status not in FIELD_STATUSES:
        raise ValueError(f"{value.key}: unknown status {value.status!r}")
    number = value.value
    return {
        "key": value.key,
        "value": None if number is None else to_decimal(number),
        "value_is_int": None if number is None else isinstance(number, int),
        "raw": value.raw,
        "span_start": value.span[0] if value.span else None,
        "span_end": value.span[1] if value.span else None,
        "status": value.status,
        "confidence": value.confidence,
        "reasons": list(value.reasons),
        "source": value.source,
        **_box_values(value, boxes),
    }


def _field_row(value: FieldValue, boxes: Sequence[StoredBox] = ()) -> FieldRow:
    return FieldRow(**_field_values(value, boxes))


_FIELD_COLUMNS = ("run_id", "key", "value", "value_is_int", "raw", "span_start", "span_end", "status",
                  "confidence", "reasons", "source", "page", "x0", "top", "x1", "bottom")  # fmt: skip


def _insert_fields(session: Session, run_id: int, rows: list[dict[str, Any]]) -> None:
    """All of a run's fields at once: the ORM's row-by-row unit of work costs ~10x more.

    On PostgreSQL through COPY (a run is ~200 rows; COPY sends them as one stream, where an
    executemany pays parameter binding per row, and that was most of a worker's time per
    document). Elsewhere one executemany.
    """
    if not rows:
        return
    connection = session.connection()
    if connection.dialect.name == "postgresql" and connection.dialect.driver == "psycopg":
        _copy_fields(connection.connection.driver_connection, run_id, rows)
        return
    session.execute(insert(FieldRow), [{**row, "run_id": run_id} for row in rows])


def _copy_fields(driver_connection: Any, run_id: int, rows: list[dict[str, Any]]) -> None:
    """COPY the rows in, on the session's own connection (same transaction, same savepoint)."""
    statement = f"COPY {FieldRow.__tablename__} ({', '.join(_FIELD_COLUMNS)}) FROM STDIN"
    with driver_connection.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            values = {**row, "run_id": run_id, "reasons": json.dumps(row["reasons"], ensure_ascii=False)}
            copy.write_row(tuple(values[column] for column in _FIELD_COLUMNS))


def _fill_run(run: RunRow, extraction: Extraction, status: str, error: str | None) -> None:
    run.doc = extraction.doc
    run.template = extraction.template
    run.year = extraction.year
    run.agency = extraction.agency
    run.status = status
    run.error = error
    run.seconds = extraction.seconds
    run.notes = list(extraction.notes)
    run.usage = dict(extraction.usage)


def save_run(
    session: Session,
    document: DocumentRow,
    extraction: Extraction,
    *,
    status: str = "done",
    error: str | None = None,
) -> RunRow:
    """Store one reader run and its fields, at most once per (content, reader, reader version).

    Saving the same result again (a redelivered task, a re-run CLI command) returns the run
    already stored, untouched. The one exception: a stored *failed* run is replaced by a *done*
    one, so a retry that succeeds is not shadowed by the attempt that failed.

    A *done* run that is stored (new, or replacing a failed one) takes over the review work of
    the document's other runs (`carry`): reviews of cells it reads unchanged, or as the reviewer
    did, are copied onto it; cells it reads otherwise are stored flagged, and listed by
    `carry.conflicts`. Every door stores runs here, so every door keeps review work.
    """
    if status not in RUN_STATUSES:
        raise ValueError(f"unknown run status {status!r}; expected one of {RUN_STATUSES}")
    key = run_key(document.sha256, extraction.reader, extraction.reader_version)
    boxes = document_boxes(document) if status == "done" else []
    rows = [_field_values(value, boxes) for value in extraction.fields.values()]  # validate before writing

    def find() -> RunRow | None:
        return session.scalar(select(RunRow).where(RunRow.idempotency_key == key))

    existing = find()
    if existing is not None and not (existing.status == "failed" and status == "done"):
        return existing
    if document.id is None:
        session.flush()
    review = None
    if status == "done":
        review = carry.plan(session, document.id, extraction, existing.id if existing else None)
    fields = review.fields if review is not None else extraction.fields
    if existing is None:
        if review is not None and review.conflicts:  # cells stored flagged: their rows change
            rows = [_field_values(value, boxes) for value in fields.values()]
        run = RunRow(
            # The id, not the relationship: setting `document=` would queue the run on
            # document.runs, and that pending append would be flushed outside the savepoint.
            document_id=document.id,
            idempotency_key=key,
            reader=extraction.reader,
            reader_version=extraction.reader_version,
        )
        _fill_run(run, extraction, status, error)
        run, created = _insert_or_existing(session, run, find, lambda row: _insert_fields(session, row.id, rows))
        if created:
            if review is not None:
                carry.apply(session, review, run.id)
            return run
        existing = run
    if existing.status == "failed" and status == "done":
        # Lock the row (PostgreSQL) so two successful retries do not both rewrite it.
        session.refresh(existing, with_for_update=True)
        if existing.status == "failed":
            existing.fields.clear()
            session.flush()  # old fields go before new ones take their (run_id, key)
            _fill_run(existing, extraction, status, error)
            existing.fields.extend(_field_row(value, boxes) for value in fields.values())
            session.flush()
            if review is not None:
                carry.apply(session, review, existing.id)
    return existing


def save_failed_run(
    session: Session,
    document: DocumentRow,
    *,
    reader: str,
    reader_version: str,
    error: str,
    seconds: float = 0.0,
    doc: str | None = None,
) -> RunRow:
    """Record that a reader crashed on a document, so the failure is visible and countable.

    Idempotent like `save_run`; a later successful `save_run` replaces this row.
    """
    extraction = Extraction(
        doc=doc if doc is not None else document.name.rsplit(".", 1)[0],
        template=None,
        year=None,
        agency=None,
        reader=reader,
        reader_version=reader_version,
        seconds=seconds,
    )
    return save_run(session, document, extraction, status="failed", error=error)


def save_result(session: Session, doc: DocumentLike, extraction: Extraction) -> RunRow:
    """Document and run in one call: what a door does after `pipeline.extract`."""
    return save_run(session, save_source(session, doc), extraction)


def get_run(session: Session, run_id: int) -> RunRow | None:
    """A run by id, or None."""
    return session.get(RunRow, run_id)


def _require_run(session: Session, run_id: int, *, lock: bool = False) -> RunRow:
    stmt = select(RunRow).where(RunRow.id == run_id)
    if lock:
        stmt = stmt.with_for_update()
    run = session.scalar(stmt)
    if run is None:
        raise NotFound(f"no run with id {run_id}")
    return run


def latest_run(session: Session, sha256: str, reader: str | None = None, *, status: str | None = None) -> RunRow | None:
    """The newest run for a document's content (optionally of one reader / status), or None.

    Lets a door answer "already extracted?" by hash before doing any work.
    """
    stmt = select(RunRow).join(RunRow.document).where(DocumentRow.sha256 == sha256)
    if reader is not None:
        stmt = stmt.where(RunRow.reader == reader)
    if status is not None:
        stmt = stmt.where(RunRow.status == status)
    return session.scalar(stmt.order_by(RunRow.id.desc()).limit(1))


def documents_without_done_run(
    session: Session, reader: str, reader_version: str, *, limit: int | None = None
) -> list[tuple[str, str]]:
    """(sha256, name) of every stored document with no *done* run of this reader version, oldest
    first: what still needs reading. The database, not the broker, is the record of this, so a
    queue that lost its messages can be rebuilt from here (`gongkai submit --resume`).

    A document whose run failed is included (a retry may succeed and replace it).
    """
    done = exists().where(
        RunRow.document_id == DocumentRow.id,
        RunRow.reader == reader,
        RunRow.reader_version == reader_version,
        RunRow.status == "done",
    )
    stmt = select(DocumentRow.sha256, DocumentRow.name).where(~done).order_by(DocumentRow.id).limit(limit)
    return [(sha256, name) for sha256, name in session.execute(stmt)]


def documents_without_any_run(session: Session, created_before: datetime, *, limit: int | None = None) -> list[str]:
    """Hashes of documents stored before `created_before` that no reader has run on, oldest first.

    What the workers' sweep re-queues: stored long enough ago that their message should have
    been read, yet nothing (not even a failed run) came of it, so the message was lost.
    """
    any_run = exists().where(RunRow.document_id == DocumentRow.id)
    stmt = (
        select(DocumentRow.sha256)
        .where(~any_run, DocumentRow.created_at < created_before)
        .order_by(DocumentRow.id)
        .limit(limit)
    )
    return list(session.scalars(stmt))


# -- uploaded files left to a worker (scans) ------------------------------------------------------


def hold_file(session: Session, *, sha256: str, name: str, data: bytes) -> tuple[FileRow, bool, bool]:
    """Store an uploaded file's raw bytes once per content hash, `queued` for a worker; (row, created,
    queued now: created, or queued again).

    The same bytes again are the same row (created False). A file whose reading failed is queued
    again: the upload is the user asking once more, and a failure may have been the machine's."""

    def find() -> FileRow | None:
        return session.scalar(select(FileRow).where(FileRow.sha256 == sha256))

    existing = find()
    if existing is None:
        existing, created = _insert_or_existing(session, FileRow(sha256=sha256, name=name, size=len(data), data=data),
                                                find)  # fmt: skip
        if created:
            return existing, True, True
    if existing.status == "failed":
        set_file_status(session, existing.id, "queued")
        session.refresh(existing)
        return existing, False, True
    return existing, False, False


def get_file(session: Session, file_id: int) -> FileRow | None:
    return session.get(FileRow, file_id)


def file_data(session: Session, file_id: int) -> bytes:
    """The raw bytes of a held file (`NotFound` when there is none)."""
    data: bytes | None = session.scalar(select(FileRow.data).where(FileRow.id == file_id))
    if data is None:
        raise NotFound(f"no file with id {file_id}")
    return data


def set_file_status(
    session: Session, file_id: int, status: str, *, code: str | None = None, error: str | None = None
) -> None:
    """Move a held file to `status` (`reading` starts its page count again; `failed` keeps a reason)."""
    if status not in FILE_STATUSES:
        raise ValueError(f"unknown file status {status!r}; expected one of {FILE_STATUSES}")
    values: dict[str, Any] = {"status": status, "code": code, "error": error, "updated_at": datetime.now(UTC)}
    if status in ("queued", "reading"):
        values.update(pages_done=0, pages_total=0)
    session.execute(update(FileRow).where(FileRow.id == file_id).values(**values))


def set_file_progress(session: Session, file_id: int, done: int, total: int) -> None:
    """Pages read so far of a file being read (what `GET /api/files/{id}` shows)."""
    stmt = update(FileRow).where(FileRow.id == file_id, FileRow.status == "reading")
    session.execute(stmt.values(pages_done=max(0, done), pages_total=max(0, total), updated_at=datetime.now(UTC)))


def files_to_read(session: Session) -> list[int]:
    """Held files still `queued` or `reading` (a process stopped mid-reading), oldest first."""
    stmt = select(FileRow.id).where(FileRow.status.in_(("queued", "reading"))).order_by(FileRow.id)
    return list(session.scalars(stmt))


def stale_files(session: Session, before: datetime, *, limit: int | None = None) -> list[int]:
    """Held files a worker should have read by now: `queued` since before `before`, or `reading` with no
    page told since then (its worker died and its message was lost). What the workers' sweep re-queues."""
    queued = (FileRow.status == "queued") & (FileRow.created_at < before)
    abandoned = (FileRow.status == "reading") & (FileRow.updated_at < before)
    stmt = select(FileRow.id).where(queued | abandoned).order_by(FileRow.id).limit(limit)
    return list(session.scalars(stmt))


def list_files(
    session: Session, status: str | None = None, limit: int = 50, offset: int = 0
) -> tuple[int, list[FileRow]]:
    """(how many match, one page of held files newest first), optionally of one status."""
    stmt = select(FileRow)
    if status is not None:
        stmt = stmt.where(FileRow.status == status)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    return total, list(session.scalars(stmt.order_by(FileRow.id.desc()).limit(limit).offset(offset)))


def unfinished_files(session: Session, limit: int = 20) -> tuple[int, list[FileRow]]:
    """(how many held files are not `done`, the newest `limit` of them): what a queue page lists apart."""
    stmt = select(FileRow).where(FileRow.status != "done")
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    return total, list(session.scalars(stmt.order_by(FileRow.id.desc()).limit(limit)))


def file_documents(session: Session, sha256: str) -> list[int]:
    """The documents a file became: itself read as one report (the same hash), or the reports cut out of
    it (their `parent_sha256`), in order."""
    stmt = select(DocumentRow.id).where((DocumentRow.sha256 == sha256) | (DocumentRow.parent_sha256 == sha256))
    return list(session.scalars(stmt.order_by(DocumentRow.id)))


def shown_runs() -> Any:
    """A subquery (document_id, run_id) of each document's run to show: its newest *done* run, else
    (nothing read yet) its newest run. A failed re-extraction must not hide the run that was read and
    reviewed; the API, the page, the queue and the dashboard all show this one."""
    newest_done = func.max(case((RunRow.status == "done", RunRow.id)))
    return (
        select(RunRow.document_id, func.coalesce(newest_done, func.max(RunRow.id)).label("run_id"))
        .group_by(RunRow.document_id)
        .subquery()
    )


def list_runs(session: Session, limit: int = 50, offset: int = 0) -> list[RunRow]:
    """Runs newest first, one page at a time (for listings in the CLI and API)."""
    if limit < 0 or offset < 0:
        raise ValueError("limit and offset must not be negative")
    stmt = select(RunRow).order_by(RunRow.id.desc()).limit(limit).offset(offset)
    return list(session.scalars(stmt))


def count_runs(session: Session) -> int:
    """How many runs there are, to go with `list_runs` pages."""
    return session.scalar(select(func.count()).select_from(RunRow)) or 0


def run_fields(session: Session, run_id: int) -> dict[str, FieldRow]:
    """The fields of a run by key, exactly as the reader and reconciler left them."""
    stmt = select(FieldRow).where(FieldRow.run_id == run_id).order_by(FieldRow.id)
    return {row.key: row for row in session.scalars(stmt)}


def list_corrections(session: Session, run_id: int, key: str | None = None) -> list[CorrectionRow]:
    """A run's audit trail (optionally of one cell), oldest first."""
    stmt = select(CorrectionRow).where(CorrectionRow.run_id == run_id)
    if key is not None:
        stmt = stmt.where(CorrectionRow.key == key)
    return list(session.scalars(stmt.order_by(CorrectionRow.id)))


def _newest_corrections(session: Session, run_id: int) -> dict[str, CorrectionRow]:
    # Newest by id, not created_at: ids are strictly increasing, clocks can tie or step back.
    return {row.key: row for row in list_corrections(session, run_id)}


def add_correction(
    session: Session,
    run_id: int,
    key: str,
    new_value: Number | None,
    reviewer: str,
    comment: str = "",
    *,
    action: str = "correct",
) -> CorrectionRow:
    """Append a reviewer's value for one cell of a run; earlier corrections stay as they were.

    `old_value` records the value in effect just before (the previous correction's, else the
    reader's), so the trail reads as a chain. `new_value=None` says the cell has no value. Keys
    are not checked against a template here (storage knows no schema); the caller validates.
    """
    if not reviewer.strip():
        raise ValueError("a correction needs a reviewer")
    if not key:
        raise ValueError("a correction needs a field key")
    if action not in CORRECTION_ACTIONS:
        raise ValueError(f"unknown correction action {action!r}; expected one of {CORRECTION_ACTIONS}")
    new = None if new_value is None else to_decimal(new_value)
    # Serialise corrections to one run (PostgreSQL row lock) so `old_value` is never stale.
    _require_run(session, run_id, lock=True)
    old = effective_value(session, run_id, key)
    row = CorrectionRow(
        run_id=run_id,
        key=key,
        old_value=None if old is None else to_decimal(old),
        old_is_int=None if old is None else isinstance(old, int),
        new_value=new,
        new_is_int=None if new_value is None else isinstance(new_value, int),
        reviewer=reviewer,
        comment=comment,
        action=action,
    )
    session.add(row)
    session.flush()
    return row


def effective_values(session: Session, run_id: int) -> dict[str, Number | None]:
    """Each field's value with the newest correction applied (what exports should show).

    Includes cells a reviewer supplied that the reader never produced.
    """
    # Columns, not ORM rows: a correction's round trip reads every cell of the run, and building
    # 200 mapped objects per request cost more than the rest of the request together.
    read = select(FieldRow.key, FieldRow.value, FieldRow.value_is_int).where(FieldRow.run_id == run_id)
    values: dict[str, Number | None] = {
        key: to_number(value, is_int) for key, value, is_int in session.execute(read.order_by(FieldRow.id))
    }
    corrected = select(CorrectionRow.key, CorrectionRow.new_value, CorrectionRow.new_is_int).where(
        CorrectionRow.run_id == run_id
    )
    for key, value, is_int in session.execute(corrected.order_by(CorrectionRow.id)):  # newest last wins
        values[key] = to_number(value, is_int)
    return values


def effective_value(session: Session, run_id: int, key: str) -> Number | None:
    """One cell's value with its newest correction applied (`effective_values` for one key)."""
    newest = session.execute(
        select(CorrectionRow.new_value, CorrectionRow.new_is_int)
        .where(CorrectionRow.run_id == run_id, CorrectionRow.key == key)
        .order_by(CorrectionRow.id.desc())
        .limit(1)
    ).first()
    if newest is not None:
        return to_number(newest[0], newest[1])
    read = session.execute(
        select(FieldRow.value, FieldRow.value_is_int).where(FieldRow.run_id == run_id, FieldRow.key == key)
    ).first()
    return None if read is None else to_number(read[0], read[1])


def _field_value(row: FieldRow) -> FieldValue:
    status: Status = row.status  # type: ignore[assignment]  # the CHECK constraint guarantees it
    return FieldValue(
        key=row.key,
        value=row.number,
        raw=row.raw,
        span=row.span,
        status=status,
        confidence=row.confidence,
        reasons=list(row.reasons),
        source=row.source,
    )


def load_extraction(
    session: Session, run_id: int, *, apply_corrections: bool = True, trail: Sequence[CorrectionRow] | None = None
) -> Extraction:
    """Rebuild the `Extraction` a run stored, so the reconciler can run again after review.

    With `apply_corrections` (the default) each corrected cell carries the newest reviewer
    value: status "read" (or "missing" if the reviewer cleared it), confidence 1.0, no reasons
    (the reconciler re-derives them), source "review"; span and raw still point at the
    document. Without it, the result equals what `save_run` was given. `trail`: the run's
    corrections (`list_corrections`), when the caller has them already.
    """
    run = _require_run(session, run_id)
    fields = {key: _field_value(row) for key, row in run_fields(session, run_id).items()}
    if apply_corrections:
        newest = {c.key: c for c in trail} if trail is not None else _newest_corrections(session, run_id)
        for key, correction in newest.items():
            base = fields.get(key)
            new = correction.new
            fields[key] = FieldValue(
                key=key,
                value=new,
                raw=base.raw if base else "",
                span=base.span if base else None,
                status="read" if new is not None else "missing",
                confidence=REVIEWED_CONFIDENCE,
                reasons=[],
                source=REVIEW_SOURCE,
            )
    return Extraction(
        doc=run.doc,
        template=run.template,
        year=run.year,
        agency=run.agency,
        fields=fields,
        notes=list(run.notes),
        usage=dict(run.usage or {}),
        reader=run.reader,
        reader_version=run.reader_version,
        seconds=run.seconds,
    )


def add_accept(session: Session, run_id: int, key: str, reviewer: str, comment: str = "") -> CorrectionRow:
    """Append an accept: a reviewer confirms the cell's current value as read (old = new on the trail)."""
    current = effective_value(session, run_id, key)
    return add_correction(session, run_id, key, current, reviewer, comment, action="accept")


# -- review state (optimistic locking) ---------------------------------------------------------


def get_review(session: Session, document_id: int) -> ReviewRow:
    """A document's review state, made (version 0, unreviewed) the first time it is asked for."""

    def find() -> ReviewRow | None:
        return session.get(ReviewRow, document_id, populate_existing=True)

    existing = find()
    if existing is not None:
        return existing
    return _insert_or_existing(session, ReviewRow(document_id=document_id, version=0, status="unreviewed"), find)[0]


def bump_review(session: Session, document_id: int, expected_version: int | None, status: str | None = None) -> bool:
    """Raise the document's version by one if it is still `expected_version`; False if someone was first.
    `expected_version=None` raises it whatever it is (a change made without a version seen, e.g. from
    a script: whoever saw the old version must still get a conflict).

    One conditional UPDATE: on PostgreSQL a concurrent second writer waits for the first's row lock
    and then finds the version changed; on SQLite writers are serialised by BEGIN IMMEDIATE.
    """
    if status is not None and status not in REVIEW_STATUSES:
        raise ValueError(f"unknown review status {status!r}; expected one of {REVIEW_STATUSES}")
    get_review(session, document_id)
    values: dict[str, Any] = {"version": ReviewRow.version + 1, "updated_at": datetime.now(UTC)}
    if status is not None:
        values["status"] = status
    stmt = (
        update(ReviewRow)
        .where(ReviewRow.document_id == document_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if expected_version is not None:
        stmt = stmt.where(ReviewRow.version == expected_version)
    changed = session.execute(stmt).rowcount  # type: ignore[attr-defined]
    return bool(changed == 1)


# -- accounts ------------------------------------------------------------------------------------


def add_user(session: Session, name: str, role: str, password_hash: str) -> UserRow:
    """A new account; the caller hashes the password. IntegrityError if the name is taken."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; expected one of {', '.join(ROLES)}")
    row = UserRow(name=name, role=role, password_hash=password_hash)
    session.add(row)
    session.flush()
    return row


def user_by_name(session: Session, name: str) -> UserRow | None:
    return session.scalar(select(UserRow).where(UserRow.name == name))


def add_token(session: Session, user_id: int, token_hash: str) -> ApiTokenRow:
    row = ApiTokenRow(user_id=user_id, token_hash=token_hash)
    session.add(row)
    session.flush()
    return row


def user_by_token_hash(session: Session, token_hash: str) -> UserRow | None:
    stmt = (
        select(UserRow).join(ApiTokenRow, ApiTokenRow.user_id == UserRow.id).where(ApiTokenRow.token_hash == token_hash)
    )
    return session.scalar(stmt)
