"""What every door does with the engine, in one place: store, extract, correct, list, load.

The CLI, the coming HTTP API and the workers are doors; they parse their input, call these
operations and render the answer. Sessions are made one way (`Service.session`: one short
transaction each, committed or rolled back as a whole), so a door never holds a transaction
open across a reading, and the database's rules (migrations, SQLite locking) live here and in
storage, not in each door.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from extractor.ingest import SourceDocument, load_path
from extractor.ingest.pages import PageProgress
from extractor.model import Extraction, Number
from extractor.pipeline import Reader, extract
from extractor.readers.llm import LLMSettings
from extractor.readers.llm.client import BlockClient
from extractor.reconcile import RuleOutcome, evaluate
from extractor.settings import get_settings
from extractor.split import split
from extractor.storage import database, repository
from schemas import DISCLOSURE_REPORT, ReportType, TemplateSpec


@dataclass(frozen=True)
class SumCheck:
    """One sum rule over a run's values as a reviewer now sees them (corrections applied)."""

    rule: str
    description: str
    ok: bool
    message: str


@dataclass(frozen=True)
class Recheck:
    """What a correction changed: the sums that hold, the ones still broken, those not checkable."""

    run_id: int
    key: str
    value: Number | None
    holding: tuple[SumCheck, ...]
    broken: tuple[SumCheck, ...]
    unchecked: tuple[str, ...]


@dataclass(frozen=True)
class RunSummary:
    run_id: int
    sha256: str
    name: str
    reader: str
    reader_version: str
    status: str
    template: str | None
    year: int | None
    agency: str | None


def _check(outcome: RuleOutcome) -> SumCheck:
    return SumCheck(outcome.rule.name, outcome.rule.description, outcome.ok, outcome.message)


def recheck_sums(
    template: TemplateSpec, run_id: int, key: str, value: Number | None, values: Mapping[str, Number | None]
) -> Recheck:
    """Every sum rule of `template` over `values` (the run as a reviewer now sees it)."""
    known = {k: v for k, v in values.items() if v is not None}
    outcomes = evaluate(template.constraints, known)
    checked = {o.rule.name for o in outcomes}
    return Recheck(
        run_id=run_id, key=key, value=value,
        holding=tuple(_check(o) for o in outcomes if o.ok),
        broken=tuple(_check(o) for o in outcomes if not o.ok),
        unchecked=tuple(r.name for r in template.constraints if r.name not in checked),
    )  # fmt: skip


class Service:
    """One database and one report type, shared by every operation of a door."""

    def __init__(
        self, database_url: str | None = None, report: ReportType = DISCLOSURE_REPORT, *, store: bool = True
    ) -> None:
        """`store=False`: read only, no database is opened (`gongkai extract --no-store`).

        Raises `storage.database.DatabaseUnavailable` (one line: the setting and the address)
        when the database cannot be reached.
        """
        settings = get_settings()
        self.url = database_url or settings.database_url
        self.max_bytes = settings.max_bytes
        self.report = report
        self._sessions: sessionmaker[Session] | None = None
        self.engine: Engine | None = None
        if store:
            database.upgrade(self.url, setting="--db" if database_url else database.DATABASE_SETTING)
            self.engine = database.make_engine(self.url)
            self._sessions = database.session_factory(self.engine)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back if it raises."""
        if self._sessions is None:
            raise RuntimeError("this service was opened without a database (store=False)")
        with self._sessions() as session, session.begin():
            yield session

    def close(self) -> None:
        if self.engine is not None:
            self.engine.dispose()

    def __enter__(self) -> Service:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- documents and runs ------------------------------------------------------------------

    def ingest(self, path: Path, progress: PageProgress | None = None) -> SourceDocument:
        """Bytes → text with the configured size limit; raises `IngestError` with a one-line reason.
        `progress` is told after each page of a PDF or scan."""
        return load_path(path, max_bytes=self.max_bytes, progress=progress)

    def parts(self, doc: SourceDocument) -> list[SourceDocument]:
        """One document per report the file holds (a 汇编 of several reports is cut at each report's
        title); `[doc]` for a file with one report. Every door reads and stores these, not the file."""
        return split(doc, self.report)

    def ingest_parts(self, path: Path, progress: PageProgress | None = None) -> list[SourceDocument]:
        """`ingest` then `parts`: the documents one file on disk holds."""
        return self.parts(self.ingest(path, progress))

    def store_document(self, doc: SourceDocument) -> int:
        """Store a document once per content hash; the same bytes twice are one document."""
        with self.session() as session:
            return int(repository.save_source(session, doc).id)

    def extract(
        self, doc: SourceDocument, reader: Reader = "rules", llm: LLMSettings | None = None,
        client: BlockClient | None = None,
    ) -> Extraction:  # fmt: skip
        return extract(doc, self.report, reader, llm, client)

    def store_run(self, doc: SourceDocument, extraction: Extraction) -> int:
        """Document and run in one transaction; a run already stored for this reader version is kept."""

        def work() -> int:
            with self.session() as session:
                return int(repository.save_result(session, doc, extraction).id)

        return database.retry_locked(work)

    def extract_and_store(
        self, doc: SourceDocument, reader: Reader = "rules", llm: LLMSettings | None = None,
        client: BlockClient | None = None,
    ) -> tuple[Extraction, int]:  # fmt: skip
        """Read (no transaction open meanwhile), then store the run."""
        extraction = self.extract(doc, reader, llm, client)
        return extraction, self.store_run(doc, extraction)

    # -- review --------------------------------------------------------------------------------

    def correct(self, run_id: int, key: str, value: Number | None, reviewer: str, comment: str = "") -> Recheck:
        """Append a reviewer's value for one cell (nothing is overwritten) and re-run the sums.

        No version is checked (a script's correction), but the document's review version still
        rises, so a reviewer who saw the value before gets a conflict instead of overwriting it.
        """
        with self.session() as session:
            run = repository.get_run(session, run_id)
            if run is None:
                raise repository.NotFound(f"run {run_id}")
            if run.template is None:
                raise ValueError(f"run {run_id} found no table template: there is no cell {key} to correct")
            template = self.report.template(run.template)
            if key not in template.keys:
                raise KeyError(f"{key} is not a field of the {run.template} template")
            repository.bump_review(session, run.document_id, None)
            repository.add_correction(session, run_id, key, value, reviewer, comment)
            values = repository.effective_values(session, run_id)
        return recheck_sums(template, run_id, key, value, values)

    # -- listing and loading -------------------------------------------------------------------

    def list_runs(self, limit: int = 50, offset: int = 0) -> Sequence[RunSummary]:
        with self.session() as session:
            rows = repository.list_runs(session, limit, offset)
            return [
                RunSummary(
                    run_id=row.id,
                    sha256=row.document.sha256,
                    name=row.document.name,
                    reader=row.reader,
                    reader_version=row.reader_version,
                    status=row.status,
                    template=row.template,
                    year=row.year,
                    agency=row.agency,
                )
                for row in rows
            ]

    def load_run(self, run_id: int, apply_corrections: bool = True) -> Extraction:
        with self.session() as session:
            return repository.load_extraction(session, run_id, apply_corrections=apply_corrections)
