"""batch id and correlation id on submissions; detected language and too-short flag on scores

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("submissions", sa.Column("batch_id", sa.Uuid(), nullable=True))
    op.add_column("submissions", sa.Column("correlation_id", sa.String(length=256), nullable=True))
    op.create_index(op.f("ix_submissions_batch_id"), "submissions", ["batch_id"], unique=False)
    op.add_column("scores", sa.Column("lang", sa.String(length=16), nullable=True))
    op.add_column("scores", sa.Column("too_short", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    op.drop_column("scores", "too_short")
    op.drop_column("scores", "lang")
    op.drop_index(op.f("ix_submissions_batch_id"), table_name="submissions")
    op.drop_column("submissions", "correlation_id")
    op.drop_column("submissions", "batch_id")
