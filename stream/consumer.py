"""The consumer used by every worker loop: poll a batch, and commit offsets only when told to.

Auto-commit is off. `commit(records)` stores, per partition, the offset after the last record
of the batch, synchronously, so callers commit only once their output is durable.
"""

import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition

from schemas.errors import ServiceUnavailable
from stream.settings import KafkaSettings

__all__ = ["EventConsumer", "origin", "position"]

log = logging.getLogger(__name__)


def origin(record: Message) -> str:
    """Where a record came from, as `topic[partition]@offset` (used in logs and dead letters)."""
    return f"{record.topic()}[{record.partition()}]@{record.offset()}"


def position(record: Message) -> tuple[str, int, int]:
    """A consumed record's topic, partition and offset. librdkafka sets all three on whatever `consume`
    returns (a partition-EOF event included); its type stubs allow None for records being produced."""
    topic, partition, offset = record.topic(), record.partition(), record.offset()
    assert topic is not None and partition is not None and offset is not None, "not a consumed record"
    return topic, partition, offset


class EventConsumer:
    """A group member of `group_id` on `topics`, created lazily, closed as a context manager."""

    def __init__(
        self,
        settings: KafkaSettings,
        group_id: str,
        topics: Sequence[str],
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        defaults: dict[str, Any] = {
            "auto.offset.reset": "earliest",
            "session.timeout.ms": settings.session_timeout_ms,
            "heartbeat.interval.ms": settings.heartbeat_interval_ms,
            "max.poll.interval.ms": settings.max_poll_interval_ms,
        }
        self._config = {
            **defaults,
            **(extra or {}),
            **settings.client_config(),
            "group.id": group_id,
            "enable.auto.commit": False,
            "logger": log,  # librdkafka's own messages go through logging (JSON lines), not raw to stderr
        }
        self._topics = list(topics)
        self._client: Consumer | None = None

    @property
    def _consumer(self) -> Consumer:
        if self._client is None:
            self._client = Consumer(self._config)
            self._client.subscribe(self._topics)
        return self._client

    def poll_batch(self, max_records: int, timeout_s: float) -> list[Message]:
        """Up to `max_records` records, returning early once `timeout_s` has passed."""
        try:
            records = self._consumer.consume(max_records, timeout_s)
        except KafkaException as exc:
            raise ServiceUnavailable(f"consumer failed: {exc}") from exc
        good = []
        for record in records:
            err = record.error()
            if err is None:
                good.append(record)
            elif err.fatal():
                raise ServiceUnavailable(f"consumer failed: {err.str()}")
            else:
                log.warning("consumer: %s", err.str())
        return good

    def commit(self, records: Sequence[Message]) -> None:
        """Commit, per partition, the offset after the last of `records`."""
        if not records:
            return
        next_offsets: dict[tuple[str, int], int] = {}
        for r in records:
            topic, partition, offset = position(r)
            key = (topic, partition)
            next_offsets[key] = max(next_offsets.get(key, 0), offset + 1)
        offsets = [TopicPartition(t, p, o) for (t, p), o in next_offsets.items()]
        try:
            self._consumer.commit(offsets=offsets, asynchronous=False)
        except KafkaException as exc:
            if exc.args[0].code() == KafkaError._NO_OFFSET:
                return
            raise ServiceUnavailable(f"offset commit failed (the batch will be redelivered): {exc}") from exc

    def rewind(self, records: Sequence[Message]) -> None:
        """Fetch `records` again in a later batch: seek each of their partitions back to the first of them."""
        first: dict[tuple[str, int], int] = {}
        for r in records:
            topic, partition, offset = position(r)
            first[(topic, partition)] = min(first.get((topic, partition), offset), offset)
        for (topic, partition), offset in first.items():
            try:
                self._consumer.seek(TopicPartition(topic, partition, offset))
            except KafkaException as exc:
                raise ServiceUnavailable(f"could not seek {topic}[{partition}] back to {offset}: {exc}") from exc

    def close(self) -> None:
        if self._client is not None:
            self._finish_joining()
            self._client.close()
            self._client = None

    def _finish_joining(self, timeout_s: float = 15.0) -> None:
        """The embedded broker (Tansu) leaves a group stuck for good when a member closes while
        its join is still in flight, so let the join finish first. Records polled here are not
        committed: the group receives them again."""
        assert self._client is not None
        deadline = time.monotonic() + timeout_s
        while not self._client.assignment() and time.monotonic() < deadline:
            self._client.consume(100, 0.2)

    def __enter__(self) -> "EventConsumer":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
