"""Idempotent batch writes into the PostgreSQL log. Knows nothing of Kafka.

One statement per table per batch; `ON CONFLICT DO NOTHING` on the natural keys makes a
redelivered event a no-op, so the log never holds a second row for one submission or a second
score for one (submission, detector version). The first stored score wins.
"""

from collections.abc import Sequence

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from schemas.events import DeadLetterEvent, ScoreEvent, SubmissionEvent, content_hash
from sink.models import Failure, Score, Submission

__all__ = ["write_failures", "write_scores", "write_submissions"]


def write_submissions(session: Session, events: Sequence[SubmissionEvent]) -> None:
    rows = {
        e.submission_id: {
            "id": e.submission_id,
            "text": e.text,
            "content_hash": content_hash(e.text),
            "lang": e.lang,
            "external_id": e.external_id,
            "source": e.source,
            "batch_id": e.batch_id,
            "correlation_id": e.correlation_id,
            "submitted_at": e.submitted_at,
        }
        for e in events
    }
    if rows:
        session.execute(insert(Submission).values(list(rows.values())).on_conflict_do_nothing())


def write_scores(session: Session, events: Sequence[ScoreEvent]) -> None:
    rows: dict[tuple[object, str], dict[str, object]] = {}
    for e in events:
        rows.setdefault(
            (e.submission_id, e.detector_version),
            e.model_dump(include=set(Score.__table__.columns.keys())),
        )
    if rows:
        session.execute(insert(Score).values(list(rows.values())).on_conflict_do_nothing())


def write_failures(session: Session, events: Sequence[DeadLetterEvent]) -> None:
    rows = {
        e.origin: {
            "origin": e.origin,
            "submission_id": e.submission_id,
            "stage": e.stage,
            "reason": e.reason,
            "failed_at": e.failed_at,
        }
        for e in events
    }
    if rows:
        session.execute(insert(Failure).values(list(rows.values())).on_conflict_do_nothing())
