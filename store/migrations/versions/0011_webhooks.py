"""webhooks: the outbox of verdicts to POST (webhook_deliveries), each try (webhook_attempts); submissions.callback_url

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 16:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("submissions", sa.Column("callback_url", sa.Text()))
    op.create_table(
        "webhook_deliveries",
        sa.Column("submission_id", sa.Uuid(), primary_key=True),
        sa.Column("detector_version", sa.String(128), primary_key=True),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("tenant", sa.String(64)),
        sa.Column("payload", JSONB(), nullable=False),
        sa.Column("state", sa.String(16), server_default="pending", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False, index=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("last_error", sa.Text()),
    )
    op.create_table(
        "webhook_attempts",
        sa.Column("submission_id", sa.Uuid(), primary_key=True),
        sa.Column("detector_version", sa.String(128), primary_key=True),
        sa.Column("attempt", sa.Integer(), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status_code", sa.Integer()),
        sa.Column("error", sa.Text()),
    )


def downgrade() -> None:
    op.drop_table("webhook_attempts")
    op.drop_table("webhook_deliveries")
    op.drop_column("submissions", "callback_url")
