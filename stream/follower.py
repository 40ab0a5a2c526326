"""Follow topics from their end: a background thread that reads every partition of some topics from
where they end when it starts (assigned directly: no consumer group, no commits) and hands each record
to a callback on an asyncio loop. What the gateway's score waiter and the bridge's outcome follower
are both built on: whoever registers interest before it produces cannot miss the answer.

In the thread, `wanted` filters records by key before anything is decoded, so other traffic costs
little, and `decode` turns a record into what the callback gets (None: pass it over), so the loop
never parses. Records come in as soon as they arrive: the first one at once, then whatever is already fetched (a
`consume(500, 0.1)` would hold every answer until 500 records or 100 ms).
"""

import asyncio
import logging
import threading
import uuid
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from confluent_kafka import Consumer, KafkaException, Message, TopicPartition

from schemas.errors import ServiceUnavailable
from stream.settings import KafkaSettings

__all__ = ["TopicFollower"]

log = logging.getLogger(__name__)

T = TypeVar("T")


class TopicFollower(Generic[T]):
    def __init__(
        self,
        kafka: KafkaSettings,
        topics: Sequence[str],
        name: str,
        decode: Callable[[Message], T | None],
        wanted: Callable[[bytes | None], bool] = lambda _: True,
        config: dict[str, Any] | None = None,
    ) -> None:
        """`name` names the thread and the throwaway group id; `config` is merged into the consumer's."""
        self._kafka = kafka
        self._topics = list(topics)
        self._name = name
        self._decode = decode
        self._wanted = wanted
        self._config = config or {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._consumer: Consumer | None = None

    def start(self, loop: asyncio.AbstractEventLoop, on_item: Callable[[T], None]) -> None:
        """Assign every partition of the topics at its current end, then follow in the background."""
        consumer = Consumer(
            {
                **self._kafka.client_config(),
                "group.id": f"veritext-{self._name}-{uuid.uuid4().hex}",
                "enable.auto.commit": False,
                "fetch.wait.max.ms": 20,
                "logger": log,
                **self._config,
            }
        )
        assignment = []
        try:
            for topic in self._topics:
                for p in consumer.list_topics(topic, timeout=10).topics[topic].partitions:
                    end = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
                    assignment.append(TopicPartition(topic, p, end))
        except (KafkaException, KeyError) as exc:
            consumer.close()
            raise ServiceUnavailable(
                f"cannot read {', '.join(self._topics)} at {self._kafka.bootstrap}: {exc}"
            ) from exc
        consumer.assign(assignment)
        self._consumer = consumer
        self._thread = threading.Thread(target=self._follow, args=(loop, on_item), name=self._name, daemon=True)
        self._thread.start()

    def _follow(self, loop: asyncio.AbstractEventLoop, on_item: Callable[[T], None]) -> None:
        assert self._consumer is not None
        while not self._stop.is_set():
            try:
                first = self._consumer.poll(0.1)
                records = [] if first is None else [first, *self._consumer.consume(500, 0)]
            except KafkaException as exc:
                log.warning("reading %s failed, retrying: %s", ", ".join(self._topics), exc)
                continue
            for record in records:
                if record.error() is not None or not self._wanted(record.key()):
                    continue
                item = self._decode(record)
                if item is not None:
                    loop.call_soon_threadsafe(on_item, item)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._consumer is not None:
            self._consumer.close()
            self._consumer = None
