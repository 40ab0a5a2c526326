"""Replay closes its micro-batches as the live scorer does: at the token budget, the text that would
pass it opening the next batch, and at `max_batch` texts; on a real broker, with the model double."""

import uuid
from datetime import UTC, datetime, timedelta

from schemas.events import SubmissionEvent
from scorer.rescore import Rescorer
from stream.producer import EventProducer
from tests.doubles import FixedScoreDetector


def test_replay_batches_close_at_the_token_budget_and_at_the_text_cap(kafka):
    detector = FixedScoreDetector()
    events = [SubmissionEvent(submission_id=uuid.uuid4(), text=f"text {i} " + "word " * 800) for i in range(10)]
    events += [SubmissionEvent(submission_id=uuid.uuid4(), text=f"short {i}") for i in range(7)]
    with EventProducer(kafka) as producer:
        rescorer = Rescorer(
            detector,
            producer,
            kafka.topics,
            since=datetime.now(UTC) - timedelta(hours=1),
            until=None,
            max_batch=5,
            max_batch_tokens=3_000,
        )
        for i, event in enumerate(events):
            rescorer.offer(event, f"test@{i}", event.model_dump_json().encode())
        counts = rescorer.finish()
    assert counts.scored == len(events) and sorted(detector.scored) == sorted(e.text for e in events)
    assert detector.batches[:4] == [2, 2, 2, 2], "~1,000 estimated tokens each: two fit in 3,000, a third would not"
    assert max(detector.batches) <= 5
