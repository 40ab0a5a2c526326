"""scores: the confidence of the label and the per-sentence segments (JSON); submissions: what the
intake normalised in the text (JSON)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "submissions",
        sa.Column("normalised", postgresql.JSONB(), server_default=sa.text("'[]'::jsonb"), nullable=False),
    )
    op.add_column("scores", sa.Column("confidence", sa.String(length=8), nullable=True))
    op.add_column(
        "scores",
        sa.Column("segments", postgresql.JSONB(), server_default=sa.text("'[]'::jsonb"), nullable=False),
    )


def downgrade() -> None:
    op.drop_column("scores", "segments")
    op.drop_column("scores", "confidence")
    op.drop_column("submissions", "normalised")
