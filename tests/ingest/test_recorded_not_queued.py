"""A broker that stalls while a text is submitted on a volatile broker (`veritext up`'s case): the log
database has the text, the broker not. The intake says so (`RecordedNotQueued` with the submission's id:
the gateway's 503 names it, so the client does not send it again), and `up`'s periodic check re-enqueues
what was recorded and never queued once nothing is left to read, so it is scored without a broker
restart. A broker of its own, real PostgreSQL; `requeue_stragglers` is what `up` calls every minute."""

import asyncio
import os
import signal
import uuid
from datetime import UTC, datetime

import pytest

from ingest.recorder import GroupRecorder, write_submission
from schemas.errors import RecordedNotQueued
from schemas.events import SubmissionEvent, wire
from store.recorder import SqlSubmissionRecorder
from stream.admin import ensure_topics
from stream.embedded_broker import EmbeddedBroker
from stream.lag import partition_offsets
from stream.producer import AsyncEventProducer, EventProducer
from stream.replay import plan_replay, read_plan
from stream.settings import KafkaSettings
from veritext import requeue

TIMEOUT_S = 4


@pytest.fixture
def own_broker():
    with EmbeddedBroker() as broker:
        kafka = KafkaSettings(bootstrap=broker.bootstrap, topic_prefix=f"nq-{uuid.uuid4().hex[:8]}", volatile=True)
        ensure_topics(kafka)
        yield broker, kafka


def _event(text: str) -> SubmissionEvent:
    return SubmissionEvent(submission_id=uuid.uuid4(), text=text)


def test_a_text_recorded_while_the_broker_stalls_is_named(own_broker, engine) -> None:
    broker, kafka = own_broker
    event = _event("A text submitted while the broker stalls.")

    async def submit() -> None:
        recorder = GroupRecorder(SqlSubmissionRecorder(engine))
        producer = AsyncEventProducer(kafka, timeout_s=TIMEOUT_S)
        producer.start()
        await producer.send(kafka.topics.submissions, "warm", _event("Before the stall."))
        os.kill(broker.pid, signal.SIGSTOP)
        try:
            with pytest.raises(RecordedNotQueued, match=f"recorded as submission {event.submission_id}") as refused:
                await write_submission(producer, kafka.topics.submissions, event, recorder)
        finally:
            os.kill(broker.pid, signal.SIGCONT)
            producer.close()
        assert refused.value.submission_id == event.submission_id

    asyncio.run(submit())
    with engine.connect() as connection:
        assert (
            connection.exec_driver_sql(
                "SELECT count(*) FROM submissions WHERE id = %(id)s", {"id": event.submission_id}
            ).scalar()
            == 1
        ), "the text is in the log database"


def test_what_was_recorded_and_never_queued_is_requeued_once_nothing_is_left_to_read(
    own_broker, engine, database_url, monkeypatch
) -> None:
    _, kafka = own_broker
    recorded = _event("Recorded, never queued.").model_copy(update={"callback_url": "https://example.com/hook"})
    SqlSubmissionRecorder(engine).record([wire(recorded)])

    def in_topic() -> int:
        return sum(p.end for p in partition_offsets(kafka, [kafka.topics.submissions]))

    stragglers = ("nq-scorer", "nq-sink")
    assert requeue.requeue_stragglers(kafka, database_url, *stragglers) == 0, "not older than STRAGGLER_AGE_S yet"
    monkeypatch.setattr(requeue, "STRAGGLER_AGE_S", 0.0)
    assert requeue.requeue_stragglers(kafka, database_url, *stragglers) == 1
    assert in_topic() == 1
    (sent,) = read_plan(kafka, plan_replay(kafka, kafka.topics.submissions, datetime.fromtimestamp(0, UTC)))
    assert SubmissionEvent.model_validate_json(sent.value()) == recorded, "sent again as it was first sent"
    assert requeue.requeue_stragglers(kafka, database_url, *stragglers) == 0, "the scorers are behind: wait"
    with EventProducer(kafka) as producer:  # still nothing re-sent while the groups have this to read
        producer.send(kafka.topics.submissions, "k", _event("Queued, not read yet."))
        producer.flush()
    assert requeue.requeue_stragglers(kafka, database_url, *stragglers) == 0
    assert in_topic() == 2
