"""api_keys: the gateway's keys, stored hashed (never the secret), with their scopes, rate limit,
daily quota and revocation; submissions and batches: the tenant (the key's name) that sent them

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("name", sa.String(length=64), primary_key=True),
        sa.Column("key_id", sa.String(length=16), nullable=False, unique=True),
        sa.Column("secret_sha256", sa.String(length=64), nullable=False),
        sa.Column("scopes", postgresql.JSONB(), nullable=False),
        sa.Column("rate_limit", sa.String(length=32), nullable=True),
        sa.Column("quota_per_day", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.add_column("submissions", sa.Column("tenant", sa.String(length=64), nullable=True))
    op.create_index("ix_submissions_tenant", "submissions", ["tenant"])
    op.add_column("batches", sa.Column("tenant", sa.String(length=64), nullable=True))


def downgrade() -> None:
    op.drop_column("batches", "tenant")
    op.drop_index("ix_submissions_tenant", table_name="submissions")
    op.drop_column("submissions", "tenant")
    op.drop_table("api_keys")
