"""submissions: the detector the submission asked for (NAME@VERSION, NULL for the default), so a
submission re-enqueued from the log after the embedded broker forgot it goes to the same scorer

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 21:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("submissions", sa.Column("detector", sa.String(length=160), nullable=True))


def downgrade() -> None:
    op.drop_column("submissions", "detector")
