"""The tables: documents, reader runs, the fields a run read, and the reviewers' corrections.

The models are the live description; `migrations/versions/` is the frozen history that builds
them (a test checks the two agree). Numbers are stored exactly (NUMERIC, bound as the decimal
text Python prints for the float, so 18651.06 is 18651.06 in the database, not 18651.0599…) with
a flag that says whether the reader gave an int, so a count read back is still an int.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    event,
    func,
    inspect,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, Mapper, mapped_column, relationship
from sqlalchemy.types import TypeDecorator, TypeEngine

from extractor.model import Number

# Deterministic constraint names, so migrations can name what they create and later drop.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

RUN_STATUSES = ("done", "failed")
FIELD_STATUSES = ("read", "blank", "inferred", "missing")
ROLES = ("reviewer", "admin")
REVIEW_STATUSES = ("unreviewed", "reviewed")
# "correct": a reviewer's new value; "accept": a flagged value confirmed as read (old = new).
CORRECTION_ACTIONS = ("correct", "accept")
# An uploaded file that must be OCR'd: waiting for a worker, being read, stored as documents, or refused.
FILE_STATUSES = ("queued", "reading", "done", "failed")

# JSON on SQLite, JSONB on PostgreSQL (indexable, compact); the same in the migration.
JSONList = JSON().with_variant(JSONB(), "postgresql")


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Amount(TypeDecorator[Decimal]):
    """An exact number: NUMERIC in the database, `Decimal` in Python.

    Floats are bound through `repr` (the shortest text that round-trips), so what is stored is
    the decimal the reader printed, not the binary float's expansion. SQLite has no decimal type
    (it keeps REAL/INTEGER), so there we bind and read plain numbers and convert the same way.
    """

    impl = Numeric
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(Numeric(asdecimal=False))
        return dialect.type_descriptor(Numeric(asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        number = to_decimal(value)
        if dialect.name == "sqlite":
            return int(number) if number == number.to_integral_value() else float(number)
        return number

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return to_decimal(value)


def to_decimal(value: Number | Decimal) -> Decimal:
    """The exact decimal for a reader's number; refuses what a table cell cannot hold."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise TypeError(f"not a number: {value!r}")
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"not a finite number: {value!r}")
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"not a finite number: {value!r}")
        return Decimal(repr(value))
    return Decimal(value)


def to_number(value: Decimal | None, is_int: bool | None) -> Number | None:
    """Back from the exact decimal to what the reader produced: int if it was an int."""
    if value is None:
        return None
    if is_int:
        return int(value)
    return float(value)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class DocumentRow(Base):
    """One ingested file (or one report cut out of a compilation file), stored once per content hash;
    `text` is what every span points into."""

    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(32))
    encoding: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    # Deferred: listing runs should not pull megabytes of report text.
    text: Mapped[str] = mapped_column(Text, deferred=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_utcnow, server_default=func.now())
    # A part of a compilation file (a 汇编, cut by `extractor.split`): the file it was cut from, which
    # part of how many, and where in the file's text. All null for a document that is a whole file.
    parent_name: Mapped[str | None] = mapped_column(Text, nullable=True)
    parent_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    part_index: Mapped[int | None] = mapped_column(Integer, nullable=True)
    part_count: Mapped[int | None] = mapped_column(Integer, nullable=True)
    part_start: Mapped[int | None] = mapped_column(Integer, nullable=True)
    part_end: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Paged formats (PDF, scans): where runs of `text` were printed, as [start, end, page, x0, top,
    # x1, bottom] lists (`geometry`). Null for text and HTML. Kept so that a run saved from the stored
    # row alone (a worker) still finds each field's box; deferred like `text`.
    boxes: Mapped[list[list[float]] | None] = mapped_column(JSONList, nullable=True, deferred=True)

    runs: Mapped[list[RunRow]] = relationship(back_populates="document", order_by="RunRow.id")

    def __repr__(self) -> str:
        return f"DocumentRow(id={self.id!r}, sha256={self.sha256[:12]!r}…, name={self.name!r})"


class FileRow(Base):
    """An uploaded file whose reading (OCR, seconds a page) is left to a worker: its raw bytes, kept even
    when reading fails, and how far the reading is (any process may read `pages_done`/`pages_total`).

    Stored once per content hash, like documents. The documents it became are found by hash, not by
    a column of their own: a file read as one report is the document of the same `sha256`, and the
    reports cut out of a compilation file carry the file's hash as their `parent_sha256`.
    """

    __tablename__ = "files"
    __table_args__ = (
        CheckConstraint("status IN ('queued', 'reading', 'done', 'failed')", name="status"),
        Index(None, "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(Text)
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)  # deferred: a listing must not pull megabytes
    status: Mapped[str] = mapped_column(String(16), default="queued", server_default="queued")
    code: Mapped[str | None] = mapped_column(String(32), nullable=True)  # the IngestError code of a failed file
    error: Mapped[str | None] = mapped_column(Text, nullable=True)  # its one-line reason
    pages_done: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    pages_total: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_utcnow, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_utcnow, server_default=func.now())

    def __repr__(self) -> str:
        return f"FileRow(id={self.id!r}, name={self.name!r}, status={self.status!r})"


class PageRow(Base):
    """One page of a paged document: its size in the page's own units (PDF points, image pixels) and
    the PNG a reviewer sees (deferred: listing pages must not pull megabytes of pictures)."""

    __tablename__ = "pages"

    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True)  # 1-based
    width: Mapped[float] = mapped_column(Float)
    height: Mapped[float] = mapped_column(Float)
    image: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True, deferred=True)

    def __repr__(self) -> str:
        return f"PageRow(document_id={self.document_id!r}, number={self.number!r})"


class RunRow(Base):
    """One reader's pass over one document; unique per (document hash, reader, reader version)."""

    __tablename__ = "runs"
    __table_args__ = (
        CheckConstraint("status IN ('done', 'failed')", name="status"),
        Index(None, "document_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"))
    # f"{sha256}:{reader}:{reader_version}" — a redelivered task finds the run it already saved.
    idempotency_key: Mapped[str] = mapped_column(String(255), unique=True)
    doc: Mapped[str] = mapped_column(Text)
    reader: Mapped[str] = mapped_column(String(64))
    reader_version: Mapped[str] = mapped_column(String(128))
    template: Mapped[str | None] = mapped_column(String(64))
    year: Mapped[int | None] = mapped_column(Integer)
    agency: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="done")
    error: Mapped[str | None] = mapped_column(Text)
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
    notes: Mapped[list[str]] = mapped_column(JSONList, default=list)
    # LLM calls, tokens in/out (retries included), cost and seconds; empty for the rules reader
    usage: Mapped[dict[str, Any] | None] = mapped_column(JSONList, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_utcnow, server_default=func.now())

    document: Mapped[DocumentRow] = relationship(back_populates="runs")
    fields: Mapped[list[FieldRow]] = relationship(
        back_populates="run", cascade="all, delete-orphan", passive_deletes=True, order_by="FieldRow.id"
    )
    corrections: Mapped[list[CorrectionRow]] = relationship(back_populates="run", order_by="CorrectionRow.id")

    def __repr__(self) -> str:
        return f"RunRow(id={self.id!r}, key={self.idempotency_key!r}, status={self.status!r})"


class FieldRow(Base):
    """One cell as a reader (and the reconciler) left it; never changed by review.

    The one note storage adds: when a re-extraction reads a reviewed cell differently from the
    reviewer's value, the cell is stored with a reason saying so (and flagged), see `carry`.
    """

    __tablename__ = "fields"
    __table_args__ = (
        UniqueConstraint("run_id", "key"),
        CheckConstraint("status IN ('read', 'blank', 'inferred', 'missing')", name="status"),
        CheckConstraint("(span_start IS NULL) = (span_end IS NULL)", name="span_pair"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(128))
    value: Mapped[Decimal | None] = mapped_column(Amount)
    value_is_int: Mapped[bool | None] = mapped_column(Boolean)
    raw: Mapped[str] = mapped_column(Text, default="")
    span_start: Mapped[int | None] = mapped_column(Integer)
    span_end: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    confidence: Mapped[float] = mapped_column(Float)
    reasons: Mapped[list[str]] = mapped_column(JSONList, default=list)
    source: Mapped[str] = mapped_column(String(64))
    # Where the span was printed (paged documents only): page number and box, origin top-left.
    page: Mapped[int | None] = mapped_column(Integer)
    x0: Mapped[float | None] = mapped_column(Float)
    top: Mapped[float | None] = mapped_column(Float)
    x1: Mapped[float | None] = mapped_column(Float)
    bottom: Mapped[float | None] = mapped_column(Float)

    run: Mapped[RunRow] = relationship(back_populates="fields")

    @property
    def number(self) -> Number | None:
        """The value as the reader gave it: int for counts, float for amounts, None if missing."""
        return to_number(self.value, self.value_is_int)

    @property
    def span(self) -> tuple[int, int] | None:
        if self.span_start is None or self.span_end is None:
            return None
        return (self.span_start, self.span_end)

    @property
    def box(self) -> tuple[int, float, float, float, float] | None:
        """(page, x0, top, x1, bottom), or None where the document has no pages or the cell no span."""
        if self.page is None or self.x0 is None or self.top is None or self.x1 is None or self.bottom is None:
            return None
        return (self.page, self.x0, self.top, self.x1, self.bottom)

    def __repr__(self) -> str:
        return f"FieldRow(run_id={self.run_id!r}, key={self.key!r}, value={self.number!r})"


class CorrectionRow(Base):
    """A reviewer's change to one cell. Append-only: the newest row for a cell is its value.

    `carried_from`: set when a re-extraction copied the review onto a new run of the same
    document (the source cell read the same); it points at the correction copied, whose own row
    stays as it was. `created_at` of a carried row is the reviewer's original time. At most one
    copy of a correction per run, so saving a run twice carries nothing twice.
    """

    __tablename__ = "corrections"
    __table_args__ = (
        Index(None, "run_id", "key", "id"),
        CheckConstraint("action IN ('correct', 'accept')", name="action"),
        UniqueConstraint("run_id", "carried_from"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # No ON DELETE: a run with an audit trail cannot be deleted out from under it.
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"))
    key: Mapped[str] = mapped_column(String(128))
    old_value: Mapped[Decimal | None] = mapped_column(Amount)
    old_is_int: Mapped[bool | None] = mapped_column(Boolean)
    new_value: Mapped[Decimal | None] = mapped_column(Amount)
    new_is_int: Mapped[bool | None] = mapped_column(Boolean)
    reviewer: Mapped[str] = mapped_column(String(128))
    comment: Mapped[str] = mapped_column(Text, default="")
    action: Mapped[str] = mapped_column(String(16), default="correct", server_default="correct")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_utcnow, server_default=func.now())
    carried_from: Mapped[int | None] = mapped_column(ForeignKey("corrections.id"))

    run: Mapped[RunRow] = relationship(back_populates="corrections")

    @property
    def old(self) -> Number | None:
        return to_number(self.old_value, self.old_is_int)

    @property
    def new(self) -> Number | None:
        return to_number(self.new_value, self.new_is_int)

    def __repr__(self) -> str:
        return (
            f"CorrectionRow(id={self.id!r}, run_id={self.run_id!r}, key={self.key!r}, "
            f"{self.old!r} → {self.new!r}, reviewer={self.reviewer!r})"
        )


class UserRow(Base):
    """A reviewer or an admin; the password only as an argon2 hash."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint("role IN ('reviewer', 'admin')", name="role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_utcnow, server_default=func.now())


class ApiTokenRow(Base):
    """A script's bearer token, stored only as its SHA-256: a leaked database reveals no token."""

    __tablename__ = "api_tokens"
    __table_args__ = (Index(None, "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_utcnow, server_default=func.now())


class ReviewRow(Base):
    """A document's review state: `version` grows with every correction or accept (optimistic locking)."""

    __tablename__ = "reviews"
    __table_args__ = (CheckConstraint("status IN ('unreviewed', 'reviewed')", name="status"),)

    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    status: Mapped[str] = mapped_column(String(16), default="unreviewed", server_default="unreviewed")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_utcnow, server_default=func.now())


class AppendOnlyError(RuntimeError):
    """Raised when something tries to change or delete a stored correction."""


@event.listens_for(CorrectionRow, "before_update")
def _refuse_correction_update(mapper: Mapper[Any], connection: Any, target: CorrectionRow) -> None:
    # The audit trail is only ever appended to; a new correction supersedes an old one.
    state = inspect(target)
    changed = [attr.key for attr in state.attrs if attr.history.has_changes() and attr.key != "run"]
    if changed:
        raise AppendOnlyError(f"corrections are append-only; refused to change {', '.join(changed)}")


@event.listens_for(CorrectionRow, "before_delete")
def _refuse_correction_delete(mapper: Mapper[Any], connection: Any, target: CorrectionRow) -> None:
    raise AppendOnlyError("corrections are append-only; refused to delete one")
