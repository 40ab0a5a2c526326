"""Reads of the PostgreSQL log, for the gateway's `GET /v1/texts/{id}` and for bulk ingest's
`--dedupe` (injected by the CLI)."""

from collections.abc import Collection
from uuid import UUID

from sqlalchemy import Engine, select

from schemas.api import SubmissionStatus, SubmissionView
from schemas.verdict import ScoreView
from store.db import ping, reading
from store.models import Failure, Score, Submission
from store.webhooks import SqlWebhookOutbox

__all__ = ["SqlHashIndex", "SqlSubmissionStore"]


class SqlSubmissionStore:
    """Answers 'what happened to submission X' from the log."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def ping(self) -> None:
        ping(self._engine)

    def get(self, submission_id: UUID, tenant: str | None = None) -> SubmissionView | None:
        """`tenant`: only a submission that tenant sent (None: any); another's reads as unknown."""
        with reading(self._engine) as session:
            submission = session.get(Submission, submission_id)
            if submission is None or (tenant is not None and submission.tenant != tenant):
                return None
            scores = session.scalars(
                select(Score).where(Score.submission_id == submission_id).order_by(Score.scored_at)
            ).all()
            failure = session.scalars(
                select(Failure.reason).where(Failure.submission_id == submission_id).limit(1)
            ).first()
        status: SubmissionStatus = "scored" if scores else "failed" if failure else "queued"
        return SubmissionView(
            submission_id=submission.id,
            status=status,
            external_id=submission.external_id,
            lang=submission.lang,
            source=submission.source,
            n_chars=len(submission.text),
            content_hash=submission.content_hash,
            submitted_at=submission.submitted_at,
            normalised=submission.normalised,
            scores=[ScoreView.of(s) for s in scores],
            failure=failure,
            webhooks=SqlWebhookOutbox(self._engine).views(submission_id) if submission.callback_url else [],
        )


class SqlHashIndex:
    """Which texts the log already holds, by content hash."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def known_hashes(self, hashes: Collection[str]) -> set[str]:
        if not hashes:
            return set()
        with reading(self._engine) as session:
            found = session.scalars(
                select(Submission.content_hash).where(Submission.content_hash.in_(list(hashes))).distinct()
            )
            return set(found)
