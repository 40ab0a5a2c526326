"""api_keys.callback_url: a key's default callback, used when a text, batch line or document names none

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 20:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("api_keys", sa.Column("callback_url", sa.Text()))


def downgrade() -> None:
    op.drop_column("api_keys", "callback_url")
