"""Storage against real databases: a SQLite file and the local PostgreSQL server.

Every test that takes `db_url` runs twice, once per backend. Each PostgreSQL test gets its own
freshly created schema (dropped afterwards), so parallel runs and other suites never collide.
Nothing is mocked; Extraction/FieldValue objects are built by hand, no reader is called.
"""

from __future__ import annotations

import itertools
import math
import os
import subprocess
import sys
import threading
import time
import tomllib
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from fnmatch import fnmatch
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from extractor.model import Extraction, FieldValue
from extractor.storage import (
    AppendOnlyError,
    Base,
    CorrectionRow,
    DocumentRow,
    FieldRow,
    NotFound,
    RunRow,
    add_correction,
    count_runs,
    current_revision,
    downgrade,
    effective_values,
    get_run,
    head_revision,
    latest_run,
    list_corrections,
    list_runs,
    load_extraction,
    make_engine,
    repository,
    run_fields,
    run_key,
    save_document,
    save_failed_run,
    save_result,
    save_run,
    session_factory,
    upgrade,
)
from extractor.storage.database import MIGRATIONS_DIR

ROOT = Path(__file__).resolve().parents[1]
PG_URL = os.environ.get("GONGKAI_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
OUR_TABLES = {"documents", "pages", "runs", "fields", "corrections", "users", "api_tokens", "reviews", "files"}
SHA_A = "a" * 64
SHA_B = "b" * 64
TEXT = "某市人民政府2023年政府信息公开工作年度报告\n二、主动公开政府信息情况\n…"


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def pg_admin() -> Iterator[sa.Engine]:
    """An autocommit engine on the test server, to create and drop per-test schemas."""
    engine = make_engine(PG_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("select 1"))
    except OperationalError as exc:
        engine.dispose()
        from tests.services import require_service  # skip here, fail under CI=true

        require_service(f"PostgreSQL not reachable at {PG_URL} (set GONGKAI_TEST_POSTGRES_URL): {exc}")
    yield engine
    engine.dispose()


def _pg_schema_url(pg_admin: sa.Engine) -> Iterator[str]:
    schema = f"gk_test_{os.getpid()}_{uuid.uuid4().hex[:10]}"
    with pg_admin.connect() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = sa.make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with pg_admin.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: a new SQLite file, or a new PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'gongkai.db'}"
    else:
        yield from _pg_schema_url(request.getfixturevalue("pg_admin"))


@pytest.fixture
def pg_url(pg_admin: sa.Engine) -> Iterator[str]:
    """PostgreSQL only, for what SQLite (one writer at a time) cannot show: concurrent writers."""
    yield from _pg_schema_url(pg_admin)


def _factory(url: str) -> Iterator[sessionmaker[Session]]:
    upgrade(url)
    engine = make_engine(url)
    try:
        yield session_factory(engine)
    finally:
        engine.dispose()


@pytest.fixture
def factory(db_url: str) -> Iterator[sessionmaker[Session]]:
    """Sessions on a migrated database."""
    yield from _factory(db_url)


@pytest.fixture
def session(factory: sessionmaker[Session]) -> Iterator[Session]:
    with factory() as s:
        yield s


def make_extraction(reader_version: str = "rules-0.1.0", **overrides: object) -> Extraction:
    fields = {
        "count": FieldValue("count", 42, raw="42", span=(10, 12)),
        "amount": FieldValue("amount", 18651.06, raw="18651.06", span=(20, 28)),
        "whole_float": FieldValue("whole_float", 12.0, raw="12.00", span=(30, 35)),
        "small": FieldValue("small", 0.3, raw="0.3", span=(40, 43)),
        "big": FieldValue("big", 98765432101234, raw="98765432101234", span=(50, 64)),
        "blank": FieldValue("blank", 0, raw="—", span=(70, 71), status="blank"),
        "inferred": FieldValue("inferred", 7, status="inferred", confidence=0.6, reasons=["inferred from the total"]),
        "missing": FieldValue("missing", None, status="missing", confidence=0.0, reasons=["not found"]),
        "doubted": FieldValue(
            "doubted",
            3,
            raw="3",
            span=(80, 81),
            confidence=0.75,
            reasons=["row sum 3 ≠ total 4", "OCR-like glyph"],
            source="llm",
        ),
        # What a bulk load (COPY on PostgreSQL) must escape: tab, newline, backslash, quotes, \N.
        "escaped": FieldValue(
            "escaped", 5, raw="5\t|\\N", span=(90, 96), reasons=['a "quoted"\ttab', "line\nbreak \\ back\\slash"]
        ),
    }
    values: dict[str, object] = {
        "doc": "某市2023年报",
        "template": "2021",
        "year": 2023,
        "agency": "某市人民政府",
        "fields": fields,
        "notes": ["表三 found", "年份 2023"],
        "reader": "rules",
        "reader_version": reader_version,
        "seconds": 0.125,
    }
    values.update(overrides)
    return Extraction(**values)  # type: ignore[arg-type]


def new_document(session: Session, sha256: str = SHA_A, name: str = "report.txt") -> DocumentRow:
    return save_document(
        session, sha256=sha256, name=name, kind="text", encoding="gb18030", size=len(TEXT.encode()), text=TEXT
    )


def count(session: Session, model: type[Base]) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(model)) or 0


# --------------------------------------------------------------------------- migrations


def table_names(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_migrations_build_every_table_from_empty_and_downgrade_to_base(db_url: str) -> None:
    assert table_names(db_url) == set()
    assert current_revision(db_url) is None

    upgrade(db_url)
    assert table_names(db_url) == OUR_TABLES | {"alembic_version"}
    assert current_revision(db_url) == head_revision() == "0007"
    upgrade(db_url)  # idempotent: already at head
    assert current_revision(db_url) == "0007"
    for revision in ("0006", "0004", "0003", "0002", "0001"):  # one step back and forth: each revision undoes cleanly
        downgrade(db_url, revision)
        assert current_revision(db_url) == revision
    upgrade(db_url)

    downgrade(db_url, "base")
    assert table_names(db_url) <= {"alembic_version"}
    assert current_revision(db_url) is None

    upgrade(db_url)  # and back up again from base
    assert table_names(db_url) == OUR_TABLES | {"alembic_version"}


def test_models_and_migrations_agree(db_url: str) -> None:
    upgrade(db_url)
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()


def test_alembic_command_line_with_packaged_ini(db_url: str, tmp_path: Path) -> None:
    ini = MIGRATIONS_DIR / "alembic.ini"

    def alembic(*args: str) -> None:
        done = subprocess.run(
            [sys.executable, "-m", "alembic", "-c", str(ini), "-x", f"url={db_url}", *args],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr

    alembic("upgrade", "head")
    assert table_names(db_url) >= OUR_TABLES
    alembic("downgrade", "base")
    assert table_names(db_url) <= {"alembic_version"}


def test_migration_files_are_shipped_as_package_data() -> None:
    """An installed wheel must carry env.py, the template, the ini and every revision."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    setuptools = config["tool"]["setuptools"]
    # packages.find in pyproject finds namespace packages, so plain .py files under
    # migrations/ ship as modules; the rest must match a package-data pattern.
    assert setuptools["packages"]["find"].get("namespaces", True)
    patterns = setuptools["package-data"]["extractor"]
    base = ROOT / "extractor"
    for path in MIGRATIONS_DIR.rglob("*"):
        if path.is_dir() or "__pycache__" in path.parts or path.suffix == ".py":
            continue
        relative = path.relative_to(base).as_posix()
        assert any(fnmatch(relative, pattern) for pattern in patterns), f"{relative} would not be shipped"
    assert (MIGRATIONS_DIR / "env.py").is_file()
    assert (MIGRATIONS_DIR / "versions" / "0001_initial.py").is_file()


def test_foreign_keys_are_enforced(session: Session) -> None:
    session.add(FieldRow(run_id=987654, key="x", status="read", confidence=0.99, source="rules"))
    with pytest.raises(IntegrityError):
        session.flush()


# --------------------------------------------------------------------------- documents and runs


def test_documents_are_deduplicated_by_content_hash(session: Session) -> None:
    first = new_document(session, name="2023年报.txt")
    session.commit()
    again = new_document(session, name="renamed copy.html")
    assert again.id == first.id
    assert again.name == "2023年报.txt"  # the first name is kept
    other = new_document(session, sha256=SHA_B)
    assert other.id != first.id
    session.commit()
    assert count(session, DocumentRow) == 2
    session.expunge_all()
    stored = session.get(DocumentRow, first.id)
    assert stored is not None
    assert stored.text == TEXT and stored.encoding == "gb18030" and stored.created_at is not None


def test_saving_the_same_run_twice_returns_the_first(factory: sessionmaker[Session]) -> None:
    extraction = make_extraction()
    with factory() as s:
        run = save_run(s, new_document(s), extraction)
        s.commit()
        assert run.idempotency_key == run_key(SHA_A, "rules", "rules-0.1.0") == f"{SHA_A}:rules:rules-0.1.0"

    # A redelivered task: new session, same document bytes, same reader version.
    with factory() as s:
        again = save_run(s, new_document(s), make_extraction(notes=["different this time"]))
        s.commit()
        assert again.id == run.id
        assert again.notes == ["表三 found", "年份 2023"]  # the stored run is returned untouched
        assert count(s, RunRow) == 1
        assert count(s, FieldRow) == len(extraction.fields)

        newer = save_run(s, new_document(s), make_extraction(reader_version="rules-0.2.0"))
        s.commit()
        assert newer.id != run.id
        assert count(s, RunRow) == 2


def test_a_failed_run_is_replaced_by_a_successful_retry(session: Session) -> None:
    doc = new_document(session)
    failed = save_failed_run(session, doc, reader="rules", reader_version="rules-0.1.0", error="boom")
    session.commit()
    assert (failed.status, failed.error, failed.doc) == ("failed", "boom", "report")
    assert run_fields(session, failed.id) == {}

    done = save_run(session, doc, make_extraction())
    session.commit()
    assert done.id == failed.id
    assert (done.status, done.error, done.template) == ("done", None, "2021")
    assert len(run_fields(session, done.id)) == len(make_extraction().fields)

    # A late failure report for a run that has since succeeded changes nothing.
    late = save_failed_run(session, doc, reader="rules", reader_version="rules-0.1.0", error="late")
    assert (late.id, late.status, late.error) == (done.id, "done", None)
    assert count(session, RunRow) == 1


def test_fields_round_trip_exactly(factory: sessionmaker[Session]) -> None:
    extraction = make_extraction()
    with factory() as s:
        run_id = save_run(s, new_document(s), extraction).id
        s.commit()

    with factory() as s:
        fields = run_fields(s, run_id)
        assert list(fields) == list(extraction.fields)
        for key, original in extraction.fields.items():
            row = fields[key]
            assert row.number == original.value, key
            assert type(row.number) is type(original.value), key
            assert row.span == original.span, key
            assert (row.raw, row.status, row.confidence, row.source) == (
                original.raw,
                original.status,
                original.confidence,
                original.source,
            ), key
            assert row.reasons == original.reasons, key
        assert type(fields["count"].number) is int
        assert type(fields["whole_float"].number) is float
        assert fields["amount"].number == 18651.06
        assert fields["amount"].value == Decimal("18651.06")
        assert fields["small"].value == Decimal("0.3")  # not 0.299999999999999988897769753748…
        assert fields["big"].number == 98765432101234
        assert fields["missing"].number is None and fields["missing"].span is None

        # What the database itself holds is the exact decimal, not a binary float's expansion.
        raw = s.execute(sa.text("SELECT value FROM fields WHERE key = 'amount'")).scalar_one()
        assert Decimal(str(raw)) == Decimal("18651.06")


def test_values_a_cell_cannot_hold_are_refused(session: Session) -> None:
    doc = new_document(session)
    for bad in (math.nan, math.inf, True):
        extraction = make_extraction(fields={"x": FieldValue("x", bad)})
        with pytest.raises((TypeError, ValueError)):
            save_run(session, doc, extraction)
    with pytest.raises(ValueError):
        save_run(session, doc, make_extraction(fields={"x": FieldValue("x", 1, status="guessed")}))  # type: ignore[arg-type]
    assert count(session, RunRow) == 0


def test_latest_run_get_run_and_list_runs(session: Session) -> None:
    doc = new_document(session)
    first = save_run(session, doc, make_extraction("v1"))
    second = save_run(session, doc, make_extraction("v2", reader="llm"))
    other = save_run(session, new_document(session, SHA_B), make_extraction("v1"))
    failed = save_failed_run(session, doc, reader="rules", reader_version="v3", error="timeout")
    session.commit()

    assert get_run(session, first.id) is first
    assert get_run(session, 10**9) is None
    assert latest_run(session, SHA_A) is failed
    assert latest_run(session, SHA_A, status="done") is second
    assert latest_run(session, SHA_A, reader="rules", status="done") is first
    assert latest_run(session, SHA_A, reader="llm") is second
    assert latest_run(session, "c" * 64) is None

    assert count_runs(session) == 4
    assert [r.id for r in list_runs(session, limit=2)] == [failed.id, other.id]
    assert [r.id for r in list_runs(session, limit=2, offset=2)] == [second.id, first.id]
    assert list_runs(session, limit=10, offset=4) == []
    assert first.document.sha256 == SHA_A
    assert [r.id for r in doc.runs] == [first.id, second.id, failed.id]


def test_save_result_takes_an_ingested_source_document(session: Session) -> None:
    from extractor.ingest import load_bytes

    source = load_bytes(TEXT.encode("gb18030"), "某市年报.txt")
    run = save_result(session, source, make_extraction())
    session.commit()
    assert run.document.sha256 == source.sha256
    assert run.document.text == source.text
    assert save_result(session, source, make_extraction()).id == run.id


# --------------------------------------------------------------------------- corrections


def test_corrections_append_and_the_newest_is_effective(factory: sessionmaker[Session]) -> None:
    with factory() as s:
        run_id = save_run(s, new_document(s), make_extraction()).id
        s.commit()

    with factory() as s:
        first = add_correction(s, run_id, "amount", 18651.6, "张三", "digits swapped")
        s.commit()
    with factory() as s:
        second = add_correction(s, run_id, "amount", 18561.06, "李四", "checked against the PDF")
        cleared = add_correction(s, run_id, "count", None, "李四", "cell is empty in the source")
        supplied = add_correction(s, run_id, "extra", 5, "李四")
        s.commit()

        trail = list_corrections(s, run_id, "amount")
        assert [c.id for c in trail] == [first.id, second.id]  # a second correction adds a row
        assert (trail[0].old, trail[0].new, trail[0].reviewer) == (18651.06, 18651.6, "张三")
        assert (trail[1].old, trail[1].new) == (18651.6, 18561.06)  # chained through the first
        assert (cleared.old, cleared.new) == (42, None)
        assert type(cleared.old) is int
        assert supplied.old is None and type(supplied.new) is int
        assert all(c.created_at is not None for c in trail)
        assert len(list_corrections(s, run_id)) == 4

        values = effective_values(s, run_id)
        assert values["amount"] == 18561.06
        assert values["count"] is None
        assert values["extra"] == 5
        assert values["whole_float"] == 12.0 and type(values["whole_float"]) is float
        assert values["missing"] is None
        # The reader's own fields are untouched.
        assert run_fields(s, run_id)["amount"].number == 18651.06

    with pytest.raises(NotFound), factory() as s:
        add_correction(s, 10**9, "amount", 1, "张三")
    with pytest.raises(ValueError), factory() as s:
        add_correction(s, run_id, "amount", 1, " ")


def test_the_repository_cannot_overwrite_or_delete_a_correction(session: Session) -> None:
    run = save_run(session, new_document(session), make_extraction())
    correction = add_correction(session, run.id, "count", 43, "张三")
    session.commit()

    # The API offers no way to change the trail: the only writer appends.
    writers = {
        name
        for name in dir(repository)
        if "correction" in name.lower() and callable(getattr(repository, name)) and not name.startswith("_")
    }
    assert writers == {"add_correction", "list_corrections", "CorrectionRow"}

    # And the model refuses it even when someone reaches past the API.
    correction.new_value = Decimal(44)
    with pytest.raises(AppendOnlyError):
        session.flush()
    session.rollback()

    session.delete(session.get(CorrectionRow, correction.id))
    with pytest.raises(AppendOnlyError):
        session.flush()
    session.rollback()

    # A run with an audit trail cannot be deleted out from under it either.
    session.execute(sa.text("DELETE FROM fields WHERE run_id = :r"), {"r": run.id})
    with pytest.raises(IntegrityError):
        session.execute(sa.text("DELETE FROM runs WHERE id = :r"), {"r": run.id})
    session.rollback()

    stored = list_corrections(session, run.id)
    assert [(c.id, c.new) for c in stored] == [(correction.id, 43)]


# --------------------------------------------------------------------------- rebuilding extractions


def test_load_extraction_round_trips(factory: sessionmaker[Session]) -> None:
    extraction = make_extraction()
    with factory() as s:
        run_id = save_run(s, new_document(s), extraction).id
        s.commit()

    with factory() as s:
        loaded = load_extraction(s, run_id)
        assert loaded == extraction
        assert loaded.detailed() == extraction.detailed()
        assert loaded.flat() == extraction.flat()
        assert {k: type(v) for k, v in loaded.values().items()} == {k: type(v) for k, v in extraction.values().items()}

        add_correction(s, run_id, "amount", 18561.06, "张三")
        add_correction(s, run_id, "doubted", 4, "张三", "the total was right")
        s.commit()

        as_read = load_extraction(s, run_id, apply_corrections=False)
        assert as_read == extraction

        corrected = load_extraction(s, run_id)
        amount = corrected.fields["amount"]
        assert (amount.value, amount.status, amount.source) == (18561.06, "read", "review")
        assert amount.reasons == []
        assert amount.span == (20, 28) and amount.raw == "18651.06"  # still points at the document
        assert amount.confidence == 1.0
        assert not corrected.fields["doubted"].flagged
        assert "doubted" not in corrected.flat()["flags"]
        assert corrected.fields["count"] == extraction.fields["count"]  # uncorrected cells unchanged

    with pytest.raises(NotFound), factory() as s:
        load_extraction(s, 10**9)


# --------------------------------------------------------------------------- races (PostgreSQL)


@pytest.fixture
def pg_factory(pg_url: str) -> Iterator[sessionmaker[Session]]:
    yield from _factory(pg_url)


def _race(factory: sessionmaker[Session], save: Callable[[Session], int]) -> tuple[int, int]:
    """Run `save` in two sessions so the second inserts while the first has inserted but not yet
    committed: the second blocks on the unique index, then fails on it once the first commits.
    Returns the ids each session ended up with."""
    engine = factory.kw["bind"]

    def second_is_waiting() -> bool:
        with engine.connect() as conn:
            query = "SELECT count(*) FROM pg_locks WHERE NOT granted AND pid <> pg_backend_pid()"
            return bool(conn.execute(sa.text(query)).scalar())

    results: list[int] = []
    errors: list[BaseException] = []

    def second() -> None:
        try:
            with factory() as s:
                results.append(save(s))
                s.commit()
        except BaseException as exc:  # re-raised in the main thread
            errors.append(exc)

    with factory() as first:
        first_id = save(first)  # flushed, not committed
        thread = threading.Thread(target=second)
        thread.start()
        _wait_until(second_is_waiting, "the second session to block on the first's insert")
        first.commit()
    thread.join(timeout=30)
    assert not thread.is_alive()
    if errors:
        raise errors[0]
    return first_id, results[0]


def _wait_until(condition: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


@pytest.mark.postgres
def test_racing_uploads_of_one_document_yield_one_row(pg_factory: sessionmaker[Session]) -> None:
    first, second = _race(pg_factory, lambda s: new_document(s).id)
    assert first == second
    with pg_factory() as s:
        assert count(s, DocumentRow) == 1


@pytest.mark.postgres
def test_racing_redeliveries_of_one_task_yield_one_run(pg_factory: sessionmaker[Session]) -> None:
    """A Celery task delivered twice saves at once; the loser gets the winner's run back."""
    with pg_factory() as s:
        doc_id = new_document(s).id
        s.commit()
    extraction = make_extraction()

    def save(s: Session) -> int:
        document = s.get(DocumentRow, doc_id)
        assert document is not None
        return save_run(s, document, extraction).id

    first, second = _race(pg_factory, save)
    assert first == second
    with pg_factory() as s:
        assert count(s, RunRow) == 1
        assert count(s, FieldRow) == len(extraction.fields)


@pytest.mark.postgres
def test_concurrent_corrections_chain_their_old_values(pg_factory: sessionmaker[Session]) -> None:
    """Corrections to one run are serialised, so each records the value it really replaced."""
    with pg_factory() as s:
        run_id = save_run(s, new_document(s), make_extraction()).id
        s.commit()

    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def review(value: int) -> None:
        try:
            start.wait()
            with pg_factory() as s:
                add_correction(s, run_id, "count", value, f"reviewer {value}")
                s.commit()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=review, args=(v,)) for v in (1, 2, 3, 4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert errors == []

    with pg_factory() as s:
        trail = list_corrections(s, run_id, "count")
        assert len(trail) == 4
        assert trail[0].old == 42
        for earlier, later in itertools.pairwise(trail):
            assert later.old == earlier.new
        assert effective_values(s, run_id)["count"] == trail[-1].new
