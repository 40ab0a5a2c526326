"""Idempotent batch writes into the PostgreSQL log. Knows nothing of Kafka.

One statement per table per batch; `ON CONFLICT DO NOTHING` on the natural keys makes a
redelivered event a no-op, so the log never holds a second row for one submission or a second
score for one (submission, detector version). The first stored score wins. Each function returns
the events whose rows it newly inserted (`RETURNING`), for the sink's metrics and log lines.
"""

from collections.abc import Sequence

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from schemas.events import DeadLetterEvent, ScoreEvent, SubmissionEvent, content_hash
from sink.models import Failure, Score, Submission

__all__ = ["write_failures", "write_scores", "write_submissions"]


def write_submissions(session: Session, events: Sequence[SubmissionEvent]) -> list[SubmissionEvent]:
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
            "detector": e.detector,
            "tenant": e.tenant,
            "normalised": e.normalised,
            "submitted_at": e.submitted_at,
        }
        for e in events
    }
    if not rows:
        return []
    statement = insert(Submission).values(list(rows.values())).on_conflict_do_nothing().returning(Submission.id)
    inserted = set(session.scalars(statement))
    return [e for e in {e.submission_id: e for e in events}.values() if e.submission_id in inserted]


def write_scores(session: Session, events: Sequence[ScoreEvent]) -> list[ScoreEvent]:
    rows: dict[tuple[object, str], dict[str, object]] = {}
    firsts: dict[tuple[object, str], ScoreEvent] = {}
    for e in events:
        key = (e.submission_id, e.detector_version)
        if key not in rows:
            rows[key] = e.model_dump(include=set(Score.__table__.columns.keys()))
            firsts[key] = e
    if not rows:
        return []
    statement = (
        insert(Score)
        .values(list(rows.values()))
        .on_conflict_do_nothing()
        .returning(Score.submission_id, Score.detector_version)
    )
    return [firsts[(submission_id, version)] for submission_id, version in session.execute(statement)]


def write_failures(session: Session, events: Sequence[DeadLetterEvent]) -> list[DeadLetterEvent]:
    rows = {
        e.subject: {
            "subject": e.subject,
            "origin": e.origin,
            "submission_id": e.submission_id,
            "stage": e.stage,
            "reason": e.reason,
            "failed_at": e.failed_at,
        }
        for e in events
    }
    if not rows:
        return []
    statement = insert(Failure).values(list(rows.values())).on_conflict_do_nothing().returning(Failure.subject)
    inserted = set(session.scalars(statement))
    return [e for e in {e.subject: e for e in events}.values() if e.subject in inserted]
