"""A broker that stalls past the message timeout (SIGSTOP, then SIGCONT) fences an idempotent producer
for good unless it is replaced: both producers heal by themselves and the events after the stall are
acknowledged. A broker of its own, so the stall touches no other test."""

import asyncio
import os
import signal
import time
import uuid

import pytest

from schemas.errors import DeliveryError
from schemas.events import SubmissionEvent
from stream.admin import ensure_topics
from stream.embedded_broker import EmbeddedBroker
from stream.producer import AsyncEventProducer, EventProducer
from stream.settings import KafkaSettings

TIMEOUT_S = 4


def _event() -> SubmissionEvent:
    return SubmissionEvent(submission_id=uuid.uuid4(), text="A text written during a broker stall.")


@pytest.fixture
def stalling_broker():
    with EmbeddedBroker() as broker:
        settings = KafkaSettings(bootstrap=broker.bootstrap, topic_prefix=f"stall-{uuid.uuid4().hex[:8]}")
        ensure_topics(settings)
        yield broker, settings


def _stall(broker: EmbeddedBroker, seconds: float) -> None:
    pid = broker.pid
    assert pid is not None
    os.kill(pid, signal.SIGSTOP)
    try:
        time.sleep(seconds)
    finally:
        os.kill(pid, signal.SIGCONT)


def test_the_gateways_producer_heals_after_a_stall(stalling_broker) -> None:
    broker, settings = stalling_broker
    topic = settings.topics.submissions

    async def run() -> None:
        producer = AsyncEventProducer(settings, timeout_s=TIMEOUT_S)
        producer.start()
        try:
            await producer.send(topic, "k", _event())
            during = asyncio.create_task(producer.send(topic, "k", _event()))
            await asyncio.to_thread(_stall, broker, TIMEOUT_S + 3)
            with pytest.raises(DeliveryError, match="timed out"):
                await during
            for _ in range(3):  # each acknowledged, none refused by a fenced producer
                await producer.send(topic, "k", _event())
            assert producer.healthy
        finally:
            producer.close()

    asyncio.run(run())


def test_a_workers_producer_heals_after_a_stall(stalling_broker) -> None:
    broker, settings = stalling_broker
    topic = settings.topics.submissions
    with EventProducer(settings, {"message.timeout.ms": TIMEOUT_S * 1000}) as producer:
        producer.send(topic, "k", _event())
        producer.flush()
        producer.send(topic, "k", _event())
        _stall(broker, TIMEOUT_S + 3)
        with pytest.raises(DeliveryError, match="timed out"):
            producer.flush()
        assert not producer.healthy
        for _ in range(3):
            producer.send(topic, "k", _event())
            producer.flush()
        assert producer.healthy
