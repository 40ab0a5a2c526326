"""The log's idempotent writer on real PostgreSQL: submissions, read from their events' wire form, keep
every field and the hash of their text as Python computes it; each is stored once however often it
comes, and the intakes' recording names one the log holds under another text; a value too long for its
column is refused, never cut short; a score of another text than the one stored for its submission (two
requests raced under one Idempotency-Key with different texts) is never stored."""

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.exc import DataError
from sqlalchemy.orm import Session

from schemas.events import ScoreEvent, SubmissionEvent, content_hash, wire
from store.models import Score, Submission
from store.writer import record_submissions, write_scores, write_submissions

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


def _full() -> SubmissionEvent:
    return SubmissionEvent(
        submission_id=uuid.uuid4(),
        text="Every field of this one is set.",
        lang="en",
        external_id="ext-1",
        source="bulk",
        batch_id=uuid.uuid4(),
        correlation_id="corr-1",
        detector="probe@v1",
        tenant="acme",
        document_id=uuid.uuid4(),
        callback_url="https://example.org/hook",
        normalised=["removed 1 control character"],
        submitted_at=NOW,
    )


def _bare() -> SubmissionEvent:
    return SubmissionEvent(submission_id=uuid.uuid4(), text="Nothing else.", submitted_at=NOW)


def _too_long(bare: SubmissionEvent) -> SubmissionEvent:
    return SubmissionEvent.model_construct(**{**bare.model_dump(), "submission_id": uuid.uuid4(), "lang": "x" * 17})


def _assert_stored(engine, full: SubmissionEvent, bare: SubmissionEvent) -> None:
    with Session(engine) as session:
        stored = {
            row.id: row
            for row in session.scalars(
                select(Submission).where(Submission.id.in_([full.submission_id, bare.submission_id]))
            )
        }
    row = stored[full.submission_id]
    assert (row.text, row.content_hash, row.lang, row.external_id, row.source, row.batch_id) == (
        full.text,
        content_hash(full.text),
        "en",
        "ext-1",
        "bulk",
        full.batch_id,
    )
    assert (row.correlation_id, row.detector, row.tenant, row.document_id, row.callback_url) == (
        "corr-1",
        "probe@v1",
        "acme",
        full.document_id,
        "https://example.org/hook",
    )
    assert row.normalised == ["removed 1 control character"] and row.submitted_at == NOW
    assert stored[bare.submission_id].normalised == [] and stored[bare.submission_id].lang is None


def test_submissions_keep_every_field_are_stored_once_and_are_never_cut_short(engine) -> None:
    full, bare = _full(), _bare()
    with Session(engine) as session, session.begin():
        assert write_submissions(session, [full, bare, full]) == [full, bare]
    with Session(engine) as session, session.begin():
        assert write_submissions(session, [full]) == [], "a redelivered submission is a no-op"
    _assert_stored(engine, full, bare)
    with pytest.raises(DataError, match="too long"), Session(engine) as session, session.begin():
        write_submissions(session, [_too_long(bare)])


def test_recorded_submissions_keep_every_field_and_one_held_under_another_text_is_named(engine) -> None:
    full, bare = _full(), _bare()
    with Session(engine) as session, session.begin():
        assert record_submissions(session, [wire(full), wire(bare)]) == []
    _assert_stored(engine, full, bare)
    other = full.model_copy(update={"text": "Another text under the same id."})
    with Session(engine) as session, session.begin():
        assert record_submissions(session, [wire(_bare()), wire(full), wire(other)]) == [full.submission_id]
    with pytest.raises(DataError, match="too long"), Session(engine) as session, session.begin():
        record_submissions(session, [wire(_too_long(bare))])


def test_a_submission_recorded_by_a_racing_transaction_under_another_text_is_named(engine) -> None:
    """The second insert waits for the first transaction's row and skips it; the comparison after it
    must see that row, committed while it waited."""
    first = _bare()
    second = first.model_copy(update={"text": "Another text, sent at the same moment."})
    with Session(engine) as holder, holder.begin():
        assert record_submissions(holder, [wire(first)]) == []
        with ThreadPoolExecutor(1) as pool:
            racing = pool.submit(_record_alone, engine, wire(second))
            time.sleep(0.5)  # the racing insert now waits for this transaction's row
            assert not racing.done()
            holder.commit()
            assert racing.result(timeout=10) == [first.submission_id]


def _record_alone(engine, event: bytes) -> list[uuid.UUID]:
    with Session(engine) as session, session.begin():
        return record_submissions(session, [event])
