"""Engines, sessions and migrations from a database URL the caller supplies.

SQLite (a local file) is the default; PostgreSQL is what the service runs on. The schema is only
ever built by the Alembic migrations packaged next to this module, so a fresh clone, an installed
wheel and the service all get the same tables by calling `upgrade(url)`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.orm import Session, sessionmaker

DEFAULT_URL = "sqlite:///gongkai.db"
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def make_engine(url: str | URL, **kwargs: Any) -> Engine:
    """An engine for `url`; on SQLite with foreign keys on and real transactions.

    SQLite ignores foreign keys unless each connection asks for them, and Python's sqlite3 driver
    opens transactions late and mishandles SAVEPOINT, which the race-safe inserts in the
    repository rely on; so we take over BEGIN ourselves (SQLAlchemy's documented recipe).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        kwargs.setdefault("pool_pre_ping", True)
    engine = create_engine(parsed, **kwargs)
    if parsed.get_backend_name() == "sqlite":
        _sqlite_setup(engine)
    return engine


def _sqlite_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        dbapi_connection.isolation_level = None  # no implicit BEGIN from the driver
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA foreign_keys=ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN")


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


def _run(url: str | URL, action: str, revision: str) -> None:
    config = alembic_config(url)
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            if action == "upgrade":
                command.upgrade(config, revision)
            else:
                command.downgrade(config, revision)
    finally:
        engine.dispose()


def upgrade(url: str | URL, revision: str = "head") -> None:
    """Bring the database at `url` to `revision` (default: the newest); safe to run repeatedly."""
    _run(url, "upgrade", revision)


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
