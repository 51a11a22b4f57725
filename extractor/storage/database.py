"""Engines, sessions and migrations from a database URL the caller supplies.

SQLite (a local file) is the default; PostgreSQL is what the service runs on. The schema is only
ever built by the Alembic migrations packaged next to this module, so a fresh clone, an installed
wheel and the service all get the same tables by calling `upgrade(url)`.

Several processes may write one SQLite file at once (two `gongkai extract` batches, a server and
a batch). SQLite allows one writer at a time, so every connection here runs in WAL mode (readers
never wait for the writer), waits for the write lock instead of failing (`busy_timeout`), takes
it at BEGIN (`BEGIN IMMEDIATE`: a transaction that read first and then writes cannot be refused
half-way, which the busy timeout would not cover), and retries BEGIN with backoff should the
lock stay taken longer than the timeout. Callers keep transactions short (one document each).

A database that cannot be reached raises `DatabaseUnavailable`, whose text is one line naming
the setting and the address, for the doors to print as it is.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

DEFAULT_URL = "sqlite:///gongkai.db"
DATABASE_SETTING = "GONGKAI_DATABASE_URL"
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

# SQLite's one writer at a time: wait this long for the lock at each attempt, then retry BEGIN
# with backoff a bounded number of times (about 3 minutes in all before giving up).
SQLITE_BUSY_TIMEOUT_MS = 20_000
LOCKED_RETRIES = 8
LOCKED_BACKOFF = (0.05, 2.0)  # first pause and longest pause, seconds (doubling, with jitter)
# A server that does not answer (a dropped packet, not a refusal) fails after this long, not never.
CONNECT_TIMEOUT_S = 10

_T = TypeVar("_T")


class DatabaseUnavailable(SQLAlchemyError):  # named for what the user is told
    """The database at the configured URL cannot be reached or opened.

    `str()` is one line: what failed, the address (never the password), the setting to fix and
    the driver's first line. A subclass of `SQLAlchemyError`, so a door that already catches
    those shows it too; doors should catch this class and print `str(exc)` with exit code 2.
    """

    def __init__(self, address: str, reason: str, setting: str = DATABASE_SETTING) -> None:
        self.address = address
        self.reason = reason
        self.setting = setting
        super().__init__(str(self))

    def __str__(self) -> str:
        return f"cannot reach the database at {self.address} (set by {self.setting}): {self.reason}"

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.address, self.reason, self.setting))


def database_address(url: str | URL) -> str:
    """Where `url` points, fit to show: host:port/database for a server, the path for a SQLite file."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ":memory:"
        return database if database == ":memory:" else str(Path(database).resolve())
    port = f":{parsed.port}" if parsed.port else ""
    return f"{parsed.get_backend_name()}://{parsed.host or 'localhost'}{port}/{parsed.database or ''}"


def _reason(exc: BaseException) -> str:
    """The driver's own first line (e.g. 'Connection refused'), without SQLAlchemy's wrapping."""
    orig = getattr(exc, "orig", None) or exc
    lines = [line.strip() for line in str(orig).splitlines() if line.strip()]
    return (lines[0] if lines else type(orig).__name__)[:300]


def is_locked(exc: BaseException) -> bool:
    """Whether `exc` is SQLite's "database is locked/busy" (worth waiting for), not a real error."""
    if not isinstance(exc, OperationalError):
        return False
    text = str(getattr(exc, "orig", None) or exc).lower()
    return "database is locked" in text or "database is busy" in text


def _backoff(attempt: int) -> float:
    first, longest = LOCKED_BACKOFF
    return float(min(longest, first * 2**attempt) * (0.5 + random.random()))  # jitter, not crypto


def retry_locked(work: Callable[[], _T], *, attempts: int = LOCKED_RETRIES) -> _T:
    """Call `work` (one whole transaction: it must begin, write and commit itself) again while
    SQLite says the database is locked, with growing pauses; other errors pass straight through.

    BEGIN already retries on its own (see `make_engine`); this is for the rare lock met later in a
    transaction (a WAL checkpoint, a connection not made by `make_engine`).
    """
    for attempt in range(attempts):
        try:
            return work()
        except OperationalError as exc:
            if not is_locked(exc) or attempt == attempts - 1:
                raise
            time.sleep(_backoff(attempt))
    raise AssertionError("unreachable")  # pragma: no cover


def make_engine(url: str | URL, **kwargs: Any) -> Engine:
    """An engine for `url`; on SQLite with foreign keys on and real transactions.

    SQLite ignores foreign keys unless each connection asks for them, and Python's sqlite3 driver
    opens transactions late and mishandles SAVEPOINT, which the race-safe inserts in the
    repository rely on; so we take over BEGIN ourselves (SQLAlchemy's documented recipe).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        kwargs.setdefault("pool_pre_ping", True)
        if "connect_timeout" not in parsed.query and parsed.get_driver_name() in ("psycopg", "psycopg2"):
            kwargs["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT_S, **kwargs.get("connect_args", {})}
    engine = create_engine(parsed, **kwargs)
    if parsed.get_backend_name() == "sqlite":
        _sqlite_setup(engine, in_memory=_in_memory(parsed))
    return engine


def _in_memory(parsed: URL) -> bool:
    database = parsed.database or ""
    return database in ("", ":memory:") or "mode=memory" in database or parsed.query.get("mode") == "memory"


def _sqlite_setup(engine: Engine, *, in_memory: bool) -> None:
    """WAL, a busy timeout and foreign keys on every connection; BEGIN IMMEDIATE with retries.

    A read-only unit of work may ask for a plain deferred BEGIN with the execution option
    `sqlite_begin="DEFERRED"` (it then never waits for a writer).
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        dbapi_connection.isolation_level = None  # no implicit BEGIN from the driver
        cursor = dbapi_connection.cursor()
        try:
            # The timeout first: switching to WAL itself may have to wait for another process.
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys=ON")
            if not in_memory:
                # Persistent in the file; a no-op when it is already WAL. NORMAL is durable in WAL
                # up to the last checkpoint-free commit and avoids an fsync per transaction.
                _retry_driver(lambda: cursor.execute("PRAGMA journal_mode=WAL"))
                cursor.execute("PRAGMA synchronous=NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        mode = str(connection.get_execution_options().get("sqlite_begin", "IMMEDIATE")).upper()
        if mode not in ("IMMEDIATE", "DEFERRED", "EXCLUSIVE"):
            raise ValueError(f"sqlite_begin must be IMMEDIATE, DEFERRED or EXCLUSIVE, not {mode!r}")
        statement = f"BEGIN {mode}"
        for attempt in range(LOCKED_RETRIES):
            try:
                connection.exec_driver_sql(statement)
                return
            except OperationalError as exc:
                if not is_locked(exc) or attempt == LOCKED_RETRIES - 1:
                    raise
                time.sleep(_backoff(attempt))


def _retry_driver(call: Callable[[], object]) -> None:
    """`call` (a raw sqlite3 statement) again while the file is locked; bounded like BEGIN."""
    import sqlite3

    for attempt in range(LOCKED_RETRIES):
        try:
            call()
            return
        except sqlite3.OperationalError as exc:
            if ("locked" not in str(exc) and "busy" not in str(exc)) or attempt == LOCKED_RETRIES - 1:
                raise
            time.sleep(_backoff(attempt))


def _connect(engine: Engine, url: str | URL, setting: str) -> Connection:
    """`engine.connect()`, with "cannot connect at all" told apart from every later error."""
    try:
        return engine.connect()
    except (OperationalError, InterfaceError) as exc:
        if is_locked(exc):
            raise
        raise DatabaseUnavailable(database_address(url), _reason(exc), setting) from exc


def check_database(url: str | URL, setting: str = DATABASE_SETTING) -> None:
    """Connect once and run `SELECT 1`; `DatabaseUnavailable` (one line) if that fails.

    For doors to call before any work, so a wrong URL or a stopped server costs one line and
    exit code 2, not a traceback half-way through a batch.
    """
    from sqlalchemy import text

    engine = make_engine(url)
    try:
        with _connect(engine, url, setting) as connection:
            try:
                connection.execute(text("SELECT 1"))
            except (OperationalError, InterfaceError) as exc:
                if is_locked(exc):
                    raise
                raise DatabaseUnavailable(database_address(url), _reason(exc), setting) from exc
    finally:
        engine.dispose()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions bound to `engine`. Objects stay readable after commit (no expire), for callers
    that commit and then report what they saved."""
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit if the block finishes, roll back if it raises."""
    with factory() as session, session.begin():
        yield session


def alembic_config(url: str | URL) -> Config:
    """Alembic configuration built in code, pointing at the migrations inside this package."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    rendered = url if isinstance(url, str) else url.render_as_string(hide_password=False)
    # ConfigParser interpolation would read '%' in a password as a reference.
    config.set_main_option("sqlalchemy.url", rendered.replace("%", "%%"))
    return config


def _run(url: str | URL, action: str, revision: str, setting: str = DATABASE_SETTING) -> None:
    config = alembic_config(url)
    engine = make_engine(url)
    try:
        with _connect(engine, url, setting) as connection, connection.begin():
            config.attributes["connection"] = connection
            if action == "upgrade":
                command.upgrade(config, revision)
            else:
                command.downgrade(config, revision)
    finally:
        engine.dispose()


def upgrade(url: str | URL, revision: str = "head", *, setting: str = DATABASE_SETTING) -> None:
    """Bring the database at `url` to `revision` (default: the newest); safe to run repeatedly.

    Raises `DatabaseUnavailable` (naming `setting`) when the database cannot be reached at all.
    """
    _run(url, "upgrade", revision, setting)


def downgrade(url: str | URL, revision: str = "base") -> None:
    """Step the schema back to `revision`; "base" drops every table the migrations made."""
    _run(url, "downgrade", revision)


def current_revision(url: str | URL) -> str | None:
    """The revision the database at `url` is at, or None if it was never migrated."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def head_revision() -> str | None:
    """The newest revision the packaged migrations define."""
    return ScriptDirectory.from_config(alembic_config(DEFAULT_URL)).get_current_head()
