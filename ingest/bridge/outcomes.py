"""Outcome follower: tells the bridge when a task it is waiting on was scored or failed.

A background thread reads [scores] and [dead-letter] from the end of every partition (assigned
directly: no consumer group, no commits, like the gateway's score waiter) and hands the events
for the submission ids the bridge expects to a callback on the bridge's event loop. It is
positioned before the bridge takes its first task, and a task is expected before its submission
is written, so no outcome can pass unseen. Records are filtered by key (the submission id)
before they are decoded, so other traffic on the topics costs little.
"""

import asyncio
import logging
import threading
import uuid
from collections.abc import Callable
from typing import Any
from uuid import UUID

from confluent_kafka import Consumer, KafkaException, Message, TopicPartition
from pydantic import ValidationError

from schemas.errors import ServiceUnavailable
from schemas.events import DeadLetterEvent, ScoreEvent
from stream.consumer import origin
from stream.settings import KafkaSettings

__all__ = ["Outcome", "OutcomeFollower"]

log = logging.getLogger(__name__)

Outcome = ScoreEvent | DeadLetterEvent


class OutcomeFollower:
    def __init__(self, kafka: KafkaSettings, config: dict[str, Any] | None = None) -> None:
        """`config` is merged into the consumer's configuration (the lag statistics)."""
        self._kafka = kafka
        self._config = config or {}
        self._expected: set[bytes] = set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._consumer: Consumer | None = None

    def start(self, loop: asyncio.AbstractEventLoop, on_outcome: Callable[[Outcome], None]) -> None:
        """Assign every partition of [scores] and [dead-letter] at its current end, then follow."""
        consumer = Consumer(
            {
                **self._kafka.client_config(),
                "group.id": f"veritext-bridge-follower-{uuid.uuid4().hex}",
                "enable.auto.commit": False,
                "fetch.wait.max.ms": 20,
                "logger": log,
                **self._config,
            }
        )
        assignment = []
        try:
            for topic in (self._kafka.topics.scores, self._kafka.topics.dead_letter):
                for p in consumer.list_topics(topic, timeout=10).topics[topic].partitions:
                    end = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
                    assignment.append(TopicPartition(topic, p, end))
        except (KafkaException, KeyError) as exc:
            consumer.close()
            raise ServiceUnavailable(f"cannot read the outcome topics at {self._kafka.bootstrap}: {exc}") from exc
        consumer.assign(assignment)
        self._consumer = consumer
        self._thread = threading.Thread(target=self._follow, args=(loop, on_outcome), name="bridge-outcomes")
        self._thread.start()

    def expect(self, submission_id: UUID) -> None:
        self._expected.add(str(submission_id).encode())

    def forget(self, submission_id: UUID) -> None:
        self._expected.discard(str(submission_id).encode())

    def forget_all(self) -> None:
        self._expected.clear()

    def _follow(self, loop: asyncio.AbstractEventLoop, on_outcome: Callable[[Outcome], None]) -> None:
        assert self._consumer is not None
        scores = self._kafka.topics.scores
        while not self._stop.is_set():
            try:  # the first record as soon as it comes, then whatever is already fetched
                first = self._consumer.poll(0.1)
                records = [] if first is None else [first, *self._consumer.consume(500, 0)]
            except KafkaException as exc:
                log.warning("reading outcomes failed, retrying: %s", exc)
                continue
            for record in records:
                if record.error() is not None or record.key() not in self._expected:
                    continue
                event = self._decode(record, ScoreEvent if record.topic() == scores else DeadLetterEvent)
                if event is not None:
                    loop.call_soon_threadsafe(on_outcome, event)

    @staticmethod
    def _decode(record: Message, model: type[ScoreEvent] | type[DeadLetterEvent]) -> Outcome | None:
        try:
            return model.model_validate_json(record.value() or b"")
        except ValidationError as exc:
            log.warning("ignoring undecodable outcome %s: %s", origin(record), exc)
            return None

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._consumer is not None:
            self._consumer.close()
            self._consumer = None
