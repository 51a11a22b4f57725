"""Re-extraction keeps review work: a correction copied onto a new run links to the one it copies.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("corrections") as batch:
        batch.add_column(sa.Column("carried_from", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_corrections_carried_from_corrections", "corrections", ["carried_from"], ["id"])
        batch.create_unique_constraint("uq_corrections_run_id_carried_from", ["run_id", "carried_from"])


def downgrade() -> None:
    with op.batch_alter_table("corrections") as batch:
        batch.drop_constraint("uq_corrections_run_id_carried_from", type_="unique")
        batch.drop_constraint("fk_corrections_carried_from_corrections", type_="foreignkey")
        batch.drop_column("carried_from")
