"""The review service's operations: uploads, accounts, documents and their review, for every door.

`ReviewService` adds to `Service` what the HTTP API (and later the UI) needs, so the API stays a
thin door: parse, call one of these, render. Each operation is one short transaction.

Review is optimistic: a document carries a `version` that every correction or accept raises by
one. A reviewer sends the version they saw; if someone changed the document since, nothing is
written and `VersionConflict` says what the cell holds now and the current version, so nothing is
silently lost. Corrections stay an append-only trail (who, when, from what, to what, what kind).
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, undefer

from extractor import pending
from extractor.ingest import IngestError, SourceDocument, load_bytes, needs_ocr
from extractor.ingest.normalize import normalize
from extractor.ingest.pages import Box, Page
from extractor.model import Number
from extractor.pipeline import Reader, llm_settings, reader_version
from extractor.service import Recheck, Service, recheck_sums
from extractor.storage import carry, repository
from extractor.storage.models import ROLES, CorrectionRow, DocumentRow, PageRow, ReviewRow, RunRow, UserRow
from extractor.uploads import expand

DOCUMENT_STATUSES = ("queued", "processing", "done", "failed")
MAX_PAGE = 500
_HASHER = PasswordHasher()
# Verified against when the user does not exist, so a wrong name costs the same time as a wrong password.
_DUMMY_HASH = _HASHER.hash("gongkai: no such user")


class VersionConflict(Exception):
    """The document changed since the reviewer saw it: the cell's current value and the current version."""

    def __init__(self, key: str, value: Number | None, version: int) -> None:
        self.key = key
        self.value = value
        self.version = version
        super().__init__(f"the document changed since version was read; it is now version {version}")


class NotReady(Exception):
    """The document has no finished run yet: there is nothing to review."""


@dataclass(frozen=True)
class User:
    id: int
    name: str
    role: str


@dataclass(frozen=True)
class Uploaded:
    """One file of an upload: stored (its document id, and whether that content was already there) or refused."""

    name: str
    id: int | None = None
    sha256: str | None = None
    duplicate: bool = False
    error: str | None = None
    code: str | None = None  # IngestError / UploadRefused code when refused
    part: Part | None = None  # one report of a compilation file (a 汇编)
    held: pending.Held | None = None  # a file needing OCR, stored raw for a worker to read (`id` is None)


@dataclass(frozen=True)
class Part:
    """Which report of which file a document is: part `index` of `count` of `file` (its hash `sha256`)."""

    file: str
    sha256: str
    index: int
    count: int

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, "sha256": self.sha256, "index": self.index, "count": self.count}


def part_of(row: DocumentRow) -> Part | None:
    """The document's place in its compilation file, or None for a document that is a whole file."""
    if row.parent_sha256 is None or row.part_index is None or row.part_count is None:
        return None
    return Part(row.parent_name or "", row.parent_sha256, row.part_index, row.part_count)


@dataclass(frozen=True)
class Reviewed:
    """The answer to a correction or accept: the new version and the sums as they now stand."""

    document_id: int
    version: int
    action: str
    recheck: Recheck


@dataclass(frozen=True)
class Reextraction:
    """A request to read a stored document again: with what, and the run that already holds that reading."""

    document_id: int
    sha256: str
    reader: Reader
    reader_version: str
    existing_run: int | None  # a done run of this very reader version: reading again would change nothing


def token_hash(token: str) -> str:
    """API tokens are 256 random bits, so a plain SHA-256 is enough to store (no slow hash needed)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _user(row: UserRow) -> User:
    return User(row.id, row.name, row.role)


def _run_status(run: RunRow | None) -> str:
    return "queued" if run is None else run.status


def _add_boxes(result: dict[str, Any], boxes: dict[str, tuple[int, float, float, float, float]]) -> None:
    """Each cell printed on a page gets `box`: {page, x0, top, x1, bottom} (page units, origin top-left)."""
    cells: dict[str, dict[str, Any]] = result.get("cells") or {}
    for key, (page, x0, top, x1, bottom) in boxes.items():
        if key in cells:
            cells[key]["box"] = {"page": page, "x0": x0, "top": top, "x1": x1, "bottom": bottom}


class ReviewService(Service):
    """`Service` plus what reviewers and uploaders do."""

    # -- accounts ------------------------------------------------------------------------------

    def create_user(self, name: str, role: str, password: str) -> str:
        """Make an account and return its API token (shown once: only its hash is stored)."""
        name = name.strip()
        if not name or len(name) > 128:
            raise ValueError("a user name is 1 to 128 characters")
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        if len(password) < 8:
            raise ValueError("a password has at least 8 characters")
        token = secrets.token_urlsafe(32)
        try:
            with self.session() as session:
                user = repository.add_user(session, name, role, _HASHER.hash(password))
                repository.add_token(session, user.id, token_hash(token))
        except IntegrityError:
            raise ValueError(f"a user named {name!r} already exists") from None
        return token

    def authenticate_password(self, name: str, password: str) -> User | None:
        with self.session() as session:
            row = repository.user_by_name(session, name)
            stored = row.password_hash if row is not None else _DUMMY_HASH
            try:
                _HASHER.verify(stored, password)
            except (VerificationError, InvalidHashError):
                return None
            return _user(row) if row is not None else None

    def authenticate_token(self, token: str) -> User | None:
        if not token or len(token) > 256:
            return None
        with self.session() as session:
            row = repository.user_by_token_hash(session, token_hash(token))
            return _user(row) if row is not None else None

    def list_users(self) -> list[User]:
        """Every account, oldest first (names and roles; never a hash)."""
        with self.session() as session:
            return [_user(row) for row in session.scalars(select(UserRow).order_by(UserRow.id))]

    def get_user(self, user_id: int) -> User | None:
        with self.session() as session:
            row = session.get(UserRow, user_id)
            return _user(row) if row is not None else None

    # -- uploads -------------------------------------------------------------------------------

    def upload(
        self,
        files: Sequence[tuple[str, bytes]],
        max_total: int | None = None,
        progress: Callable[[str, int, int], None] | None = None,
    ) -> list[Uploaded]:
        """Store each readable file (zips opened) once per content hash; one `Uploaded` per file, or per
        report of a file that holds several (a 汇编: `Service.parts`, each part its own document).

        A file that needs OCR (a scan or an image: `needs_ocr`, decided without OCR) is not read here: it
        is stored raw and answered `held` (`extractor.pending`) for a worker to read, unless its documents
        are stored already (then they are answered, as duplicates). Raises `UploadRefused` for a zip
        refused as a whole (unsafe names, a zip bomb). `progress` is told (file name, pages done, page
        count) after each page of a PDF read here.
        """
        limit = max_total if max_total is not None else 4 * self.max_bytes
        answers: list[Uploaded] = []
        for name, data in files:
            for item in expand(name, data, self.max_bytes, limit):
                if len(item.data) <= self.max_bytes and needs_ocr(item.data):
                    answers.extend(self._hold(item.name, item.data))
                    continue
                try:
                    told = None if progress is None else functools.partial(progress, item.name)
                    doc = load_bytes(item.data, item.name, max_bytes=self.max_bytes, progress=told)
                except IngestError as exc:
                    answers.append(Uploaded(item.name, error=str(exc), code=exc.code))
                    continue
                answers.extend(self._store_upload(part) for part in self.parts(doc))
        return answers

    def _hold(self, name: str, data: bytes) -> list[Uploaded]:
        """A file for OCR: its documents when they are stored already, else the file held for a worker."""
        sha256 = hashlib.sha256(data).hexdigest()
        with self.session() as session:
            known = session.scalars(
                select(DocumentRow).where((DocumentRow.sha256 == sha256) | (DocumentRow.parent_sha256 == sha256))
                .order_by(DocumentRow.id)
            ).all()  # fmt: skip
            found = [
                Uploaded(row.name, id=row.id, sha256=row.sha256, duplicate=True, part=part_of(row)) for row in known
            ]
        if found:
            return found
        held = pending.hold(self, name, data)
        return [Uploaded(name, sha256=held.sha256, duplicate=held.duplicate, held=held)]

    def _store_upload(self, doc: SourceDocument) -> Uploaded:
        def work() -> Uploaded:
            with self.session() as session:
                before = session.scalar(select(DocumentRow.id).where(DocumentRow.sha256 == doc.sha256))
                row = repository.save_source(session, doc)
                repository.get_review(session, row.id)
                return Uploaded(doc.name, id=row.id, sha256=doc.sha256, duplicate=before is not None, part=part_of(row))

        from extractor.storage.database import retry_locked

        return retry_locked(work)

    # -- extraction of stored documents ---------------------------------------------------------

    def unread_documents(self, among: Sequence[int] | None = None) -> list[int]:
        """Stored documents (of `among`, or all) no reader has run on, oldest first: what needs reading."""
        with self.session() as session:
            any_run = select(RunRow.id).where(RunRow.document_id == DocumentRow.id).exists()
            stmt = select(DocumentRow.id).where(~any_run).order_by(DocumentRow.id)
            if among is not None:
                stmt = stmt.where(DocumentRow.id.in_(list(among)))
            return list(session.scalars(stmt))

    def source(self, document_id: int) -> SourceDocument:
        """The stored document as ingest left it: text, and for a paged one its pages (sizes only: the
        pictures stay in the database, no reader looks at them) and boxes."""
        with self.session() as session:
            row = session.scalar(
                select(DocumentRow)
                .where(DocumentRow.id == document_id)
                .options(undefer(DocumentRow.text), undefer(DocumentRow.boxes))
            )
            if row is None:
                raise repository.NotFound(f"no document with id {document_id}")
            pages = tuple(Page(p.number, p.width, p.height) for p in repository.document_pages(session, row.id))
            boxes = tuple(Box(*box) for box in repository.document_boxes(row))
            return SourceDocument(name=row.name, sha256=row.sha256, kind=row.kind, encoding=row.encoding,
                                  size=row.size, text=row.text, normalized=normalize(row.text), pages=pages,
                                  boxes=boxes)  # fmt: skip

    def page_image(self, document_id: int, number: int) -> bytes:
        """The PNG of one page of a document; `NotFound` when there is no such page or it has no picture."""
        with self.session() as session:
            image = repository.page_image(session, document_id, number)
        if image is None:
            raise repository.NotFound(f"document {document_id} has no picture of page {number}")
        return image

    def extract_document(self, document_id: int, reader: Reader = "rules") -> int:
        """Read a stored document and store the run; a reader that crashes leaves a failed run."""
        doc = self.source(document_id)
        try:
            return self.extract_and_store(doc, reader)[1]
        except Exception as exc:
            with self.session() as session:
                row = repository.save_source(session, doc)
                run = repository.save_failed_run(session, row, reader=reader, reader_version=reader_version(reader),
                                                 error=f"{type(exc).__name__}: {exc}"[:2000])  # fmt: skip
                return int(run.id)

    def reextraction(self, document_id: int, reader: Reader) -> Reextraction:
        """Whether reading the document again with `reader` would make a new run: not when a done run
        of this reader version exists (one run per content, reader and version). Raises `NotFound`,
        and `LLMConfigError` when the reader needs an LLM and none is configured here."""
        llm_settings(reader)
        version = reader_version(reader)
        with self.session() as session:
            doc = session.get(DocumentRow, document_id)
            if doc is None:
                raise repository.NotFound(f"no document with id {document_id}")
            key = repository.run_key(doc.sha256, reader, version)
            existing = session.scalar(select(RunRow.id).where(RunRow.idempotency_key == key, RunRow.status == "done"))
            return Reextraction(document_id, doc.sha256, reader, version, existing)

    # -- documents -------------------------------------------------------------------------------

    def list_documents(
        self, *, agency: str | None = None, year: int | None = None, template: str | None = None,
        status: str | None = None, review: str | None = None, reader: str | None = None,
        file: str | None = None, limit: int = 50, offset: int = 0,
    ) -> tuple[int, list[dict[str, Any]]]:  # fmt: skip
        """(how many match, one page of them newest first), each with its newest run's summary.
        `file`: only the reports cut out of the compilation file with this sha256."""
        if not 0 < limit <= MAX_PAGE or offset < 0:
            raise ValueError(f"limit is 1 to {MAX_PAGE}, offset at least 0")
        latest = repository.shown_runs()
        stmt = (
            select(DocumentRow, RunRow, ReviewRow)
            .outerjoin(latest, latest.c.document_id == DocumentRow.id)
            .outerjoin(RunRow, RunRow.id == latest.c.run_id)
            .outerjoin(ReviewRow, ReviewRow.document_id == DocumentRow.id)
        )
        if agency is not None:
            stmt = stmt.where(RunRow.agency.contains(agency, autoescape=True))
        if year is not None:
            stmt = stmt.where(RunRow.year == year)
        if template is not None:
            stmt = stmt.where(RunRow.template == template)
        if reader is not None:
            stmt = stmt.where(RunRow.reader == reader)
        if file is not None:
            stmt = stmt.where(DocumentRow.parent_sha256 == file.lower())
        if status == "queued" or status == "processing":
            stmt = stmt.where(RunRow.id.is_(None))
        elif status is not None:
            stmt = stmt.where(RunRow.status == status)
        if review == "reviewed":
            stmt = stmt.where(ReviewRow.status == "reviewed")
        elif review is not None:
            stmt = stmt.where((ReviewRow.status.is_(None)) | (ReviewRow.status == review))
        with self.session() as session:
            total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
            rows = session.execute(stmt.order_by(DocumentRow.id.desc()).limit(limit).offset(offset)).all()
            return total, [self._summary(doc, run, rev) for doc, run, rev in rows]

    @staticmethod
    def _summary(doc: DocumentRow, run: RunRow | None, review: ReviewRow | None) -> dict[str, Any]:
        return {
            "id": doc.id, "name": doc.name, "sha256": doc.sha256, "kind": doc.kind, "size": doc.size,
            "created_at": doc.created_at.isoformat() if doc.created_at else None,
            "status": _run_status(run),
            "review": {"status": review.status if review else "unreviewed", "version": review.version if review else 0},
            "part": None if (part := part_of(doc)) is None else part.as_dict(),
            "run": None if run is None else {
                "id": run.id, "reader": run.reader, "reader_version": run.reader_version, "template": run.template,
                "year": run.year, "agency": run.agency, "error": run.error,
            },
        }  # fmt: skip

    def _document(self, session: Session, document_id: int) -> tuple[DocumentRow, RunRow | None, ReviewRow]:
        doc = session.get(DocumentRow, document_id)
        if doc is None:
            raise repository.NotFound(f"no document with id {document_id}")
        newest = select(RunRow).where(RunRow.document_id == document_id).order_by(RunRow.id.desc()).limit(1)
        # The newest done run (see `repository.shown_runs`), else the newest of any status.
        run = session.scalar(newest.where(RunRow.status == "done")) or session.scalar(newest)
        return doc, run, repository.get_review(session, document_id)

    def document(self, document_id: int) -> dict[str, Any]:
        """Status, then (once read) every cell with value, status, confidence, reasons and source span,
        the text the spans point into, the review trail, and what re-extraction did with the review:
        `carried` (cells whose review was copied from an earlier run) and `conflicts` (reviewed cells
        this run reads otherwise; the reviewer's value is not applied until someone settles them)."""
        with self.session() as session:
            doc, run, review = self._document(session, document_id)
            out = self._summary(doc, run, review)
            out["text"] = doc.text
            # Every reading of the document, newest first: a re-extraction that failed shows here
            # (its error too) while the page keeps showing the done run it did not replace.
            out["runs"] = [
                {"id": r.id, "reader": r.reader, "reader_version": r.reader_version, "status": r.status,
                 "error": r.error, "created_at": r.created_at.isoformat() if r.created_at else None}
                for r in session.scalars(select(RunRow).where(RunRow.document_id == document_id)
                                         .order_by(RunRow.id.desc()))
            ]  # fmt: skip
            out["pages"] = self._pages(session, document_id)
            if run is not None and run.status == "done":
                trail = repository.list_corrections(session, run.id)
                extraction = repository.load_extraction(session, run.id, trail=trail)
                out["result"] = extraction.detailed()
                _add_boxes(out["result"], repository.field_boxes(session, run.id))
                sources = self._correction_runs(session, [c.carried_from for c in trail if c.carried_from])
                out["history"] = [
                    {"id": c.id, "key": c.key, "action": c.action, "from": c.old, "to": c.new,
                     "reviewer": c.reviewer, "at": c.created_at.isoformat() if c.created_at else None,
                     "comment": c.comment,
                     "carried_from": None if c.carried_from is None else {
                         "correction": c.carried_from, "run": sources.get(c.carried_from)}}
                    for c in trail
                ]  # fmt: skip
                out["carried"] = sorted(carry.carried(session, run.id))
                out["conflicts"] = [conflict.as_dict() for conflict in carry.conflicts(session, run)]
            return out

    @staticmethod
    def _pages(session: Session, document_id: int) -> list[dict[str, Any]]:
        """Each page's number and size, and whether it has a picture (`GET …/pages/{n}.png`)."""
        stmt = (
            select(PageRow.number, PageRow.width, PageRow.height, PageRow.image.is_not(None))
            .where(PageRow.document_id == document_id)
            .order_by(PageRow.number)
        )
        return [
            {"number": number, "width": width, "height": height, "image": bool(image)}
            for number, width, height, image in session.execute(stmt)
        ]

    @staticmethod
    def _correction_runs(session: Session, ids: Sequence[int]) -> dict[int, int]:
        if not ids:
            return {}
        stmt = select(CorrectionRow.id, CorrectionRow.run_id).where(CorrectionRow.id.in_(list(ids)))
        return {correction: run for correction, run in session.execute(stmt)}

    def flat(self, document_id: int) -> dict[str, Any]:
        """The FIELDS.md object with reviewers' values applied, plus the review `version` to send back."""
        with self.session() as session:
            _doc, run, review = self._document(session, document_id)
            if run is None or run.status != "done":
                raise NotReady(f"document {document_id} is {_run_status(run)}: nothing read yet")
            out = repository.load_extraction(session, run.id).flat()
            # Reviewed cells this run reads otherwise: the value here is the new reading, not the reviewer's.
            out["conflicts"] = [conflict.key for conflict in carry.conflicts(session, run)]
            out["version"] = review.version
            out["review_status"] = review.status
            return out

    # -- review ------------------------------------------------------------------------------------

    def set_review_status(self, document_id: int, status: str, expected_version: int) -> int:
        """Mark a document reviewed or unreviewed if still at `expected_version`; the new version."""
        with self.session() as session:
            self._document(session, document_id)
            if not repository.bump_review(session, document_id, expected_version, status):
                raise VersionConflict("", None, repository.get_review(session, document_id).version)
            return expected_version + 1

    def review(
        self, document_id: int, key: str, expected_version: int, reviewer: str, *, value: Number | None = None,
        accept: bool = False, comment: str = "",
    ) -> Reviewed:  # fmt: skip
        """Correct (`value`) or accept one cell if the document is still at `expected_version`.

        Raises `VersionConflict` (nothing written), `NotFound`, `NotReady`, `KeyError` (not a field).
        """
        with self.session() as session:
            _doc, run, _review = self._document(session, document_id)
            if run is None or run.status != "done" or run.template is None:
                raise NotReady(f"document {document_id} has no table to review ({_run_status(run)})")
            template = self.report.template(run.template)
            if key not in template.keys:
                raise KeyError(f"{key} is not a field of the {run.template} template")
            if not repository.bump_review(session, document_id, expected_version):
                current = repository.effective_values(session, run.id).get(key)
                raise VersionConflict(key, current, repository.get_review(session, document_id).version)
            if accept:
                row = repository.add_accept(session, run.id, key, reviewer, comment)
            else:
                row = repository.add_correction(session, run.id, key, value, reviewer, comment)
            values = repository.effective_values(session, run.id)
            version = expected_version + 1
            new = row.new
        recheck = recheck_sums(template, run.id, key, new, values)
        return Reviewed(document_id, version, "accept" if accept else "correct", recheck)
