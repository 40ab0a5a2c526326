"""submissions, scores and failures

Revision ID: 0001
Revises:
Create Date: 2026-11-22 04:03:49.927103
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "failures",
        sa.Column("origin", sa.String(length=300), nullable=False),
        sa.Column("submission_id", sa.Uuid(), nullable=True),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("origin"),
    )
    op.create_index(op.f("ix_failures_submission_id"), "failures", ["submission_id"], unique=False)
    op.create_table(
        "scores",
        sa.Column("submission_id", sa.Uuid(), nullable=False),
        sa.Column("detector_version", sa.String(length=128), nullable=False),
        sa.Column("detector_name", sa.String(length=64), nullable=False),
        sa.Column("probability", sa.Float(), nullable=False),
        sa.Column("label", sa.String(length=16), nullable=False),
        sa.Column("n_tokens", sa.Integer(), nullable=False),
        sa.Column("latency_ms", sa.Float(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("scored_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("submission_id", "detector_version"),
    )
    op.create_index(op.f("ix_scores_scored_at"), "scores", ["scored_at"], unique=False)
    op.create_table(
        "submissions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("lang", sa.String(length=16), nullable=True),
        sa.Column("external_id", sa.String(length=256), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_submissions_content_hash"), "submissions", ["content_hash"], unique=False)
    op.create_index(op.f("ix_submissions_external_id"), "submissions", ["external_id"], unique=False)
    op.create_index(op.f("ix_submissions_submitted_at"), "submissions", ["submitted_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_submissions_submitted_at"), table_name="submissions")
    op.drop_index(op.f("ix_submissions_external_id"), table_name="submissions")
    op.drop_index(op.f("ix_submissions_content_hash"), table_name="submissions")
    op.drop_table("submissions")
    op.drop_index(op.f("ix_scores_scored_at"), table_name="scores")
    op.drop_table("scores")
    op.drop_index(op.f("ix_failures_submission_id"), table_name="failures")
    op.drop_table("failures")
