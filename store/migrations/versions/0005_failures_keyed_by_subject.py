"""failures: keyed by what they are about (`subject`: stage, submission, detector version), not by the
record's `topic[partition]@offset`, which the embedded broker reuses after a restart; `origin` stays as
a plain column

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 21:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("failures", sa.Column("subject", sa.String(length=300), nullable=True))
    op.execute("UPDATE failures SET subject = origin")
    op.alter_column("failures", "subject", nullable=False)
    op.drop_constraint("failures_pkey", "failures", type_="primary")
    op.create_primary_key("failures_pkey", "failures", ["subject"])


def downgrade() -> None:
    op.drop_constraint("failures_pkey", "failures", type_="primary")
    op.execute("DELETE FROM failures a USING failures b WHERE a.origin = b.origin AND a.subject > b.subject")
    op.create_primary_key("failures_pkey", "failures", ["origin"])
    op.drop_column("failures", "subject")
