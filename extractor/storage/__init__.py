"""Storage: documents, reader runs, fields and reviewers' corrections in SQL (SQLite or PostgreSQL).

The schema is built by the packaged Alembic migrations (`upgrade(url)`); the repository functions
take a Session and never commit, so the caller decides what one transaction is.
"""

from extractor.storage.database import (
    DEFAULT_URL,
    current_revision,
    downgrade,
    head_revision,
    make_engine,
    session_factory,
    session_scope,
    upgrade,
)
from extractor.storage.models import (
    AppendOnlyError,
    Base,
    CorrectionRow,
    DocumentRow,
    FieldRow,
    RunRow,
)
from extractor.storage.repository import (
    DocumentLike,
    NotFound,
    add_correction,
    count_runs,
    effective_values,
    get_run,
    latest_run,
    list_corrections,
    list_runs,
    load_extraction,
    run_fields,
    run_key,
    save_document,
    save_failed_run,
    save_result,
    save_run,
    save_source,
)

__all__ = [
    "DEFAULT_URL",
    "AppendOnlyError",
    "Base",
    "CorrectionRow",
    "DocumentLike",
    "DocumentRow",
    "FieldRow",
    "NotFound",
    "RunRow",
    "add_correction",
    "count_runs",
    "current_revision",
    "downgrade",
    "effective_values",
    "get_run",
    "head_revision",
    "latest_run",
    "list_corrections",
    "list_runs",
    "load_extraction",
    "make_engine",
    "run_fields",
    "run_key",
    "save_document",
    "save_failed_run",
    "save_result",
    "save_run",
    "save_source",
    "session_factory",
    "session_scope",
    "upgrade",
]
