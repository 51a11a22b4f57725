"""Re-extraction keeps review work: reviews carried onto a document's new run, conflicts listed.

A document is read again when a reader changes version or another reader (the LLM) is added;
each reading is a new run, and every view shows the newest done run. Without this module the
reviewers' corrections and accepts, which hang on the older run, would vanish from view.

So when a new *done* run is stored (`save_run`, whatever the door: CLI, API worker, Celery),
each reviewed cell's newest action in the document's other runs (newest by correction id) is
compared with what the new run read:

- the new run read the cell as the run the review was made on did (the source cell is
  unchanged), or it read the reviewer's value (the new reader agrees): the action is copied onto
  the new run, same action, value, reviewer, comment and original time, with `carried_from`
  pointing at the correction copied. The original row stays as it was (append-only trail).
- otherwise it is a *conflict*: the reviewer's value is not applied, the new reading is kept and
  stored flagged with a reason naming the reviewer's value. `conflicts()` lists it until a
  reviewer corrects or accepts that cell on the new run.

Cells are compared by value (exact decimals; no value equals no value): the reviewer vouched for
a number, so a reader that prints the same number from the same text needs the same review. A
run of another template is not the same table: nothing is carried onto it, and every reviewed
cell whose reviewer's value it does not hold is a conflict.

Storage knows no schema and commits nothing, like the rest of `repository`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from extractor.confidence import EVEN
from extractor.model import Extraction, FieldValue, Number, format_number
from extractor.storage.models import CorrectionRow, FieldRow, ReviewRow, RunRow, to_decimal, to_number

# A reading that contradicts a reviewer is as likely wrong as right: flagged, not trusted.
CONFLICT_CONFIDENCE = EVEN


@dataclass(frozen=True)
class Reading:
    """One cell as a run read it: the exact value (None: no value, or not read at all)."""

    value: Decimal | None = None
    is_int: bool | None = None

    @property
    def number(self) -> Number | None:
        return to_number(self.value, self.is_int)

    @classmethod
    def of(cls, number: Number | None) -> Reading:
        return cls() if number is None else cls(to_decimal(number), isinstance(number, int))


@dataclass(frozen=True)
class SourceReview:
    """A cell's newest review action in the document's other runs, with what that run read."""

    correction: CorrectionRow
    template: str | None
    read: Reading


@dataclass(frozen=True)
class Conflict:
    """A reviewed cell the new run reads differently from both the reviewed run and the reviewer."""

    key: str
    action: str
    reviewer: str
    reviewer_value: Number | None
    previous_read: Number | None
    new_read: Number | None
    from_run: int
    to_run: int | None
    correction_id: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key, "action": self.action, "reviewer": self.reviewer,
            "reviewer_value": self.reviewer_value, "previous_read": self.previous_read, "new_read": self.new_read,
            "from_run": self.from_run, "to_run": self.to_run, "correction_id": self.correction_id,
        }  # fmt: skip


@dataclass
class Plan:
    """What storing a new run will do with the document's review work."""

    document_id: int
    carry: list[tuple[SourceReview, Reading]] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    fields: dict[str, FieldValue] = field(default_factory=dict)  # the run's fields, conflicts flagged

    @property
    def changes_review(self) -> bool:
        return bool(self.carry or self.conflicts)


def lock_review(session: Session, document_id: int) -> None:
    """Hold the document's review row until commit (PostgreSQL), the row every reviewer's write
    updates first: a correction committed meanwhile is then seen, and one racing the carry gets
    a version conflict instead of landing on a run no view shows any more."""
    from extractor.storage.repository import get_review  # here: repository imports this module

    get_review(session, document_id)
    session.execute(select(ReviewRow.document_id).where(ReviewRow.document_id == document_id).with_for_update())


def newest_reviews(session: Session, document_id: int, exclude_run: int | None = None) -> dict[str, SourceReview]:
    """Per cell, the newest review action (by id: clocks can tie) in the document's runs but
    `exclude_run`, with the reading of the run it was made on."""
    stmt = (
        select(CorrectionRow, RunRow.template)
        .join(RunRow, RunRow.id == CorrectionRow.run_id)
        .where(RunRow.document_id == document_id)
        .order_by(CorrectionRow.id)
    )
    if exclude_run is not None:
        stmt = stmt.where(RunRow.id != exclude_run)
    newest: dict[str, tuple[CorrectionRow, str | None]] = {}
    for correction, template in session.execute(stmt):
        newest[correction.key] = (correction, template)
    if not newest:
        return {}
    readings: dict[tuple[int, str], Reading] = {}
    by_run: dict[int, list[str]] = {}
    for key, (correction, _template) in newest.items():
        by_run.setdefault(correction.run_id, []).append(key)
    for run_id, keys in by_run.items():
        rows = select(FieldRow.key, FieldRow.value, FieldRow.value_is_int).where(
            FieldRow.run_id == run_id, FieldRow.key.in_(keys)
        )
        for key, value, is_int in session.execute(rows):
            readings[(run_id, key)] = Reading(value, is_int)
    return {
        key: SourceReview(correction, template, readings.get((correction.run_id, key), Reading()))
        for key, (correction, template) in newest.items()
    }


def _conflict(key: str, review: SourceReview, new: Reading, to_run: int | None) -> Conflict:
    c = review.correction
    return Conflict(key=key, action=c.action, reviewer=c.reviewer, reviewer_value=c.new,
                    previous_read=review.read.number, new_read=new.number, from_run=c.run_id, to_run=to_run,
                    correction_id=c.id)  # fmt: skip


def decide(review: SourceReview, template: str | None, new: Reading) -> str | None:
    """ "carry", "conflict", or None (another table that happens to hold the reviewer's value)."""
    agrees = new.value == review.correction.new_value
    if template is None or template != review.template:
        return None if agrees else "conflict"
    if agrees or new.value == review.read.value:
        return "carry"
    return "conflict"


def flag_conflict(value: FieldValue, conflict: Conflict) -> FieldValue:
    """A copy of the new reading, flagged with why: it contradicts a reviewer's value."""
    copy = FieldValue(key=value.key, value=value.value, raw=value.raw, span=value.span, status=value.status,
                      confidence=value.confidence, reasons=list(value.reasons), source=value.source,
                      hard=value.hard)  # fmt: skip
    # Names and actions quoted, so the flag groups (which normalise quotes and numbers) put every
    # conflict of a section in one group, whoever reviewed what.
    copy.doubt(
        f"re-extraction conflict: the review value '{format_number(conflict.reviewer_value)}' "
        f"(by '{conflict.reviewer}', '{conflict.action}' on run {conflict.from_run}) is not applied: this reading "
        f"differs from it and from the reading '{format_number(conflict.previous_read)}' of that run",
        CONFLICT_CONFIDENCE,
        layout=False,
    )
    return copy


def plan(session: Session, document_id: int, extraction: Extraction, replacing: int | None = None) -> Plan:
    """What storing `extraction` as a new done run of the document does with its review work.

    Call before the run's fields are written (conflicting cells are stored flagged); `replacing`
    is the id of a failed run being replaced, which holds no review of its own.
    """
    out = Plan(document_id, fields=dict(extraction.fields))
    # A document's first reading has no review to take over (reviews hang on runs): one cheap query
    # instead of the lock and the review lookup, on the path every new upload takes.
    others = select(RunRow.id).where(RunRow.document_id == document_id)
    if replacing is not None:
        others = others.where(RunRow.id != replacing)
    if session.scalar(others.limit(1)) is None:
        return out
    lock_review(session, document_id)
    for key, review in newest_reviews(session, document_id, exclude_run=replacing).items():
        value = extraction.fields.get(key)
        new = Reading.of(value.value if value is not None else None)
        decision = decide(review, extraction.template, new)
        if decision == "carry":
            out.carry.append((review, new))
        elif decision == "conflict":
            conflict = _conflict(key, review, new, replacing)
            out.conflicts.append(conflict)
            if value is not None:
                out.fields[key] = flag_conflict(value, conflict)
    return out


def apply(session: Session, plan: Plan, run_id: int) -> list[CorrectionRow]:
    """Copy the carried review actions onto the new run, and raise the document's review version
    if anything reviewers see changed (a carry or a conflict): whoever saw the old run must reload.
    A conflict also sets a reviewed document back to unreviewed.

    A correction already copied onto this run is not copied again.
    """
    from extractor.storage.repository import bump_review  # here: repository imports this module

    if not plan.changes_review:
        return []
    already = set(
        session.scalars(
            select(CorrectionRow.carried_from).where(
                CorrectionRow.run_id == run_id, CorrectionRow.carried_from.is_not(None)
            )
        )
    )
    rows = []
    for review, new in plan.carry:
        c = review.correction
        if c.id in already:
            continue
        rows.append(CorrectionRow(
            run_id=run_id, key=c.key, old_value=new.value, old_is_int=new.is_int, new_value=c.new_value,
            new_is_int=c.new_is_int, reviewer=c.reviewer, comment=c.comment, action=c.action,
            created_at=c.created_at, carried_from=c.id,
        ))  # fmt: skip
    session.add_all(rows)
    if rows or plan.conflicts:
        session.flush()
        # A conflict is a cell no reviewer has seen as it now reads: the document needs review again.
        bump_review(session, plan.document_id, None, "unreviewed" if plan.conflicts else None)
    return rows


def conflicts(session: Session, run: RunRow) -> list[Conflict]:
    """The reviewed cells whose reviewer's value `run` does not hold and that no review on `run`
    settled: what a reviewer must look at again. Sorted by key.

    Computed, not stored, so it is right whatever stored the run and however the review went:
    correcting or accepting the cell on `run` ends the conflict.
    """
    reviews = newest_reviews(session, run.document_id, exclude_run=run.id)
    if not reviews:
        return []
    own = set(session.scalars(select(CorrectionRow.key).where(CorrectionRow.run_id == run.id)))
    readings = _readings(session, run.id, [key for key in reviews if key not in own])
    out = []
    for key in sorted(reviews):
        if key in own:
            continue
        new = readings.get(key, Reading())
        if new.value != reviews[key].correction.new_value:
            out.append(_conflict(key, reviews[key], new, run.id))
    return out


def _readings(session: Session, run_id: int, keys: list[str]) -> Mapping[str, Reading]:
    if not keys:
        return {}
    stmt = select(FieldRow.key, FieldRow.value, FieldRow.value_is_int).where(
        FieldRow.run_id == run_id, FieldRow.key.in_(keys)
    )
    return {key: Reading(value, is_int) for key, value, is_int in session.execute(stmt)}


def carried(session: Session, run_id: int) -> dict[str, int]:
    """Cells of the run whose review was carried from another run: key → the correction copied."""
    stmt = (
        select(CorrectionRow.key, CorrectionRow.carried_from)
        .where(CorrectionRow.run_id == run_id, CorrectionRow.carried_from.is_not(None))
        .order_by(CorrectionRow.id)
    )
    return {key: int(source) for key, source in session.execute(stmt) if source is not None}
