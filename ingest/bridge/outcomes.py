"""Outcome follower: tells the bridge when a task it is waiting on was scored or failed.

A follower (stream/follower.py) reads [scores] and [dead-letter] from their end in a background thread
and hands the events for the submission ids the bridge expects to a callback on the bridge's event
loop. It is positioned before the bridge takes its first task, and a task is expected before its
submission is written, so no outcome can pass unseen. Records are filtered by key (the submission id)
before they are decoded, so other traffic on the topics costs little.
"""

import asyncio
import logging
from collections.abc import Callable
from typing import Any
from uuid import UUID

from confluent_kafka import Message
from pydantic import ValidationError

from schemas.events import DeadLetterEvent, ScoreEvent
from stream.consumer import origin
from stream.follower import TopicFollower
from stream.settings import KafkaSettings

__all__ = ["Outcome", "OutcomeFollower"]

log = logging.getLogger(__name__)

Outcome = ScoreEvent | DeadLetterEvent


class OutcomeFollower:
    def __init__(self, kafka: KafkaSettings, config: dict[str, Any] | None = None) -> None:
        """`config` is merged into the consumer's configuration (the lag statistics)."""
        self._scores = kafka.topics.scores
        self._expected: set[bytes] = set()
        self._follower: TopicFollower[Outcome] = TopicFollower(
            kafka,
            [kafka.topics.scores, kafka.topics.dead_letter],
            "bridge-outcomes",
            self._decode,
            wanted=self._expected.__contains__,
            config=config,
        )

    def start(self, loop: asyncio.AbstractEventLoop, on_outcome: Callable[[Outcome], None]) -> None:
        """Assign every partition of [scores] and [dead-letter] at its current end, then follow."""
        self._follower.start(loop, on_outcome)

    def expect(self, submission_id: UUID) -> None:
        self._expected.add(str(submission_id).encode())

    def forget(self, submission_id: UUID) -> None:
        self._expected.discard(str(submission_id).encode())

    def forget_all(self) -> None:
        self._expected.clear()

    def _decode(self, record: Message) -> Outcome | None:
        model: type[ScoreEvent] | type[DeadLetterEvent] = (
            ScoreEvent if record.topic() == self._scores else DeadLetterEvent
        )
        try:
            return model.model_validate_json(record.value() or b"")
        except ValidationError as exc:
            log.warning("ignoring undecodable outcome %s: %s", origin(record), exc)
            return None

    def close(self) -> None:
        self._follower.close()
