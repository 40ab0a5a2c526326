"""scores: where the reading of a long text stopped (scorer/window.py), NULL when it was read whole

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("scores", sa.Column("read_chars", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column("scores", "read_chars")
