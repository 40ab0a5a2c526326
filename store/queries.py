"""Reads of the PostgreSQL log, for the gateway's `GET /v1/texts/{id}` and for bulk ingest's
`--dedupe` (injected by the CLI)."""

from collections.abc import Collection
from uuid import UUID

from sqlalchemy import Engine, select

from schemas.api import ScoreView, SubmissionStatus, SubmissionView
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
            scores=[
                ScoreView(
                    detector_name=s.detector_name,
                    detector_version=s.detector_version,
                    probability=s.probability,
                    label=s.label,
                    n_tokens=s.n_tokens,
                    lang=s.lang,
                    too_short=s.too_short,
                    confidence=s.confidence,
                    segments=s.segments,
                    read_chars=s.read_chars,
                    scored_at=s.scored_at,
                )
                for s in scores
            ],
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
