"""The log's idempotent writer on real PostgreSQL: a score of another text than the one stored for its
submission (two requests raced under one Idempotency-Key with different texts) is never stored."""

import uuid
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from schemas.events import ScoreEvent, SubmissionEvent, content_hash
from store.models import Score
from store.writer import write_scores, write_submissions

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def _score(submission_id: uuid.UUID, text: str | None, probability: float) -> ScoreEvent:
    return ScoreEvent(
        submission_id=submission_id,
        detector_name="fixed-double",
        detector_version="double-1",
        probability=probability,
        label="human",
        n_tokens=5,
        latency_ms=1.0,
        submitted_at=NOW,
        content_hash=None if text is None else content_hash(text),
    )


def test_a_score_of_another_text_than_the_stored_one_is_refused(engine) -> None:
    raced, legacy = uuid.uuid4(), uuid.uuid4()
    with Session(engine) as session, session.begin():
        write_submissions(
            session,
            [
                SubmissionEvent(submission_id=raced, text="The text stored first.", submitted_at=NOW),
                SubmissionEvent(submission_id=legacy, text="Scored by an older scorer.", submitted_at=NOW),
            ],
        )
    with Session(engine) as session, session.begin():
        stored = write_scores(
            session,
            [
                _score(raced, "The other text, sent under the same key.", 0.9),
                _score(raced, "The text stored first.", 0.1),
                _score(legacy, None, 0.3),  # no hash: an event from before scores carried one
            ],
        )
    assert [(s.submission_id, s.probability) for s in stored] == [(raced, 0.1), (legacy, 0.3)]
    with Session(engine) as session:
        rows = dict(session.execute(select(Score.submission_id, Score.probability)).all())
    assert rows == {raced: 0.1, legacy: 0.3}
