"""A document can be one report cut out of a compilation file (a 汇编): the file's name and hash,
which part of how many, and the part's character offsets in the file's text.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = ("parent_name", "parent_sha256", "part_index", "part_count", "part_start", "part_end")


def upgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.add_column(sa.Column("parent_name", sa.Text(), nullable=True))
        batch.add_column(sa.Column("parent_sha256", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("part_index", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("part_count", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("part_start", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("part_end", sa.Integer(), nullable=True))
        batch.create_index("ix_documents_parent_sha256", ["parent_sha256"])


def downgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.drop_index("ix_documents_parent_sha256")
        for column in reversed(_COLUMNS):
            batch.drop_column(column)
