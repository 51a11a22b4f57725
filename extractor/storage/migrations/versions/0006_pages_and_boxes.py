"""Positions: a paged document's pages (size and picture) and boxes, and each field's page and box.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BOX = ("page", "x0", "top", "x1", "bottom")


def upgrade() -> None:
    op.create_table(
        "pages",
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("width", sa.Float(), nullable=False),
        sa.Column("height", sa.Float(), nullable=False),
        sa.Column("image", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(["document_id"], ["documents.id"], name="fk_pages_document_id_documents"),
        sa.PrimaryKeyConstraint("document_id", "number", name="pk_pages"),
    )
    with op.batch_alter_table("documents") as batch:
        batch.add_column(sa.Column("boxes", sa.JSON().with_variant(JSONB(), "postgresql"), nullable=True))
    with op.batch_alter_table("fields") as batch:
        batch.add_column(sa.Column("page", sa.Integer(), nullable=True))
        for column in _BOX[1:]:
            batch.add_column(sa.Column(column, sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("fields") as batch:
        for column in reversed(_BOX):
            batch.drop_column(column)
    with op.batch_alter_table("documents") as batch:
        batch.drop_column("boxes")
    op.drop_table("pages")
