"""`veritext replay` after the embedded broker restarted: the new broker has forgotten the topic's
records (Tansu keeps them in memory only), so the replay says so and re-scores the window from
the PostgreSQL log, which keeps the texts; the scores still go through [scores] and the sink."""

import uuid
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from schemas.events import SubmissionEvent
from sink.worker import SinkWorker
from store.models import Score
from stream.admin import ensure_topics
from stream.embedded_broker import EmbeddedBroker
from stream.producer import EventProducer
from stream.settings import KafkaSettings
from tests.cli import veritext
from tests.doubles import FixedScoreDetector
from tests.helpers import running, wait_until
from tests.pipeline import pipeline


def _submit(kafka: KafkaSettings, texts: list[str]) -> set[uuid.UUID]:
    events = [SubmissionEvent(submission_id=uuid.uuid4(), text=t) for t in texts]
    with EventProducer(kafka) as producer:
        for e in events:
            producer.send(kafka.topics.submissions, str(e.submission_id), e, timestamp=e.submitted_at)
        producer.flush()
    return {e.submission_id for e in events}


def _scored_by(engine, version: str) -> set[uuid.UUID]:
    with Session(engine) as s:
        return set(s.scalars(select(Score.submission_id).where(Score.detector_version == version)))


def test_replay_after_a_broker_restart_rescores_the_window_from_the_database(database_url, engine):
    prefix = f"t{uuid.uuid4().hex[:12]}"
    with EmbeddedBroker() as first_broker:
        kafka = KafkaSettings(bootstrap=first_broker.bootstrap, topic_prefix=prefix, partitions=4)
        ensure_topics(kafka)
        before = _submit(kafka, [f"earlier text {i}" for i in range(8)])
        since = datetime.now(UTC)
        inside = _submit(kafka, [f"text of the window {i}" for i in range(20)])
        with pipeline(kafka, engine, detector=FixedScoreDetector()):
            wait_until(lambda: _scored_by(engine, "double-1") == before | inside, timeout_s=60, what="live scores")

    with EmbeddedBroker() as second_broker:  # a fresh broker: the topics are back, empty
        kafka = KafkaSettings(bootstrap=second_broker.bootstrap, topic_prefix=prefix, partitions=4)
        ensure_topics(kafka)
        with running(SinkWorker(kafka, engine, group_id=f"{prefix}-sink")):
            done = veritext(
                kafka, database_url, "replay", "--since", since.isoformat(), "--detector", "tests.doubles:fixed_v2"
            )
            assert done.returncode == 0, done.stderr
            assert "no longer holds the window" in done.stderr and "PostgreSQL log" in done.stderr, done.stderr
            wait_until(lambda: _scored_by(engine, "double-2") == inside, timeout_s=60, what="the replayed scores")
    assert _scored_by(engine, "double-1") == before | inside, "the earlier scores stay"
