"""Initial schema: documents, runs, fields, corrections.

Revision ID: 0001
Revises:
Create Date: 2025-01-01 00:00:00

Written out by hand (not imported from models.py) so that this revision keeps building the
same tables whatever the models become; tests check models and migrations agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("encoding", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_documents"),
        sa.UniqueConstraint("sha256", name="uq_documents_sha256"),
    )
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=False),
        sa.Column("doc", sa.Text(), nullable=False),
        sa.Column("reader", sa.String(length=64), nullable=False),
        sa.Column("reader_version", sa.String(length=128), nullable=False),
        sa.Column("template", sa.String(length=64), nullable=True),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("agency", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("notes", _json(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint("status IN ('done', 'failed')", name="ck_runs_status"),
        sa.ForeignKeyConstraint(["document_id"], ["documents.id"], name="fk_runs_document_id_documents"),
        sa.PrimaryKeyConstraint("id", name="pk_runs"),
        sa.UniqueConstraint("idempotency_key", name="uq_runs_idempotency_key"),
    )
    op.create_index("ix_runs_document_id", "runs", ["document_id"])
    op.create_table(
        "fields",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("value", sa.Numeric(), nullable=True),
        sa.Column("value_is_int", sa.Boolean(), nullable=True),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.Column("span_start", sa.Integer(), nullable=True),
        sa.Column("span_end", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("reasons", _json(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.CheckConstraint("status IN ('read', 'blank', 'inferred', 'missing')", name="ck_fields_status"),
        sa.CheckConstraint("(span_start IS NULL) = (span_end IS NULL)", name="ck_fields_span_pair"),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name="fk_fields_run_id_runs", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_fields"),
        sa.UniqueConstraint("run_id", "key", name="uq_fields_run_id_key"),
    )
    op.create_table(
        "corrections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("old_value", sa.Numeric(), nullable=True),
        sa.Column("old_is_int", sa.Boolean(), nullable=True),
        sa.Column("new_value", sa.Numeric(), nullable=True),
        sa.Column("new_is_int", sa.Boolean(), nullable=True),
        sa.Column("reviewer", sa.String(length=128), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name="fk_corrections_run_id_runs"),
        sa.PrimaryKeyConstraint("id", name="pk_corrections"),
    )
    op.create_index("ix_corrections_run_id_key_id", "corrections", ["run_id", "key", "id"])


def downgrade() -> None:
    op.drop_index("ix_corrections_run_id_key_id", table_name="corrections")
    op.drop_table("corrections")
    op.drop_table("fields")
    op.drop_index("ix_runs_document_id", table_name="runs")
    op.drop_table("runs")
    op.drop_table("documents")
