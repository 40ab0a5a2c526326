"""Score waiter: lets a request wait for the score of the text it just submitted.

One consumer per gateway process reads [scores] from the end of every partition (no consumer
group offsets, no commits) in a background thread and resolves the asyncio future registered for
that submission id. A request registers before it produces, so it cannot miss its score. Scores
produced by a replay are not answers to requests and are passed over. Listeners (`listen`: the web
page's recent list) get every live score as it comes, on a bounded queue that drops when it is full.
"""

import asyncio
import logging
import threading
import uuid
from uuid import UUID

from confluent_kafka import Consumer, KafkaException, TopicPartition
from pydantic import ValidationError

from schemas.errors import ServiceUnavailable
from schemas.events import ScoreEvent
from stream.settings import KafkaSettings

__all__ = ["ScoreWaiter"]

log = logging.getLogger(__name__)


class ScoreWaiter:
    def __init__(self, kafka: KafkaSettings) -> None:
        self._kafka = kafka
        self._futures: dict[UUID, asyncio.Future[ScoreEvent]] = {}
        self._listeners: set[asyncio.Queue[ScoreEvent]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._consumer: Consumer | None = None

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Assign every partition of [scores] at its current end, then follow it."""
        self._loop = loop
        topic = self._kafka.topics.scores
        consumer = Consumer(
            {
                **self._kafka.client_config(),
                "group.id": f"veritext-gateway-waiter-{uuid.uuid4().hex}",
                "enable.auto.commit": False,
                "fetch.wait.max.ms": 20,
                "logger": log,
            }
        )
        try:
            partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
            ends = [consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in partitions]
        except (KafkaException, KeyError) as exc:
            consumer.close()
            raise ServiceUnavailable(f"cannot read topic {topic} at {self._kafka.bootstrap}: {exc}") from exc
        consumer.assign([TopicPartition(topic, p, end) for p, end in zip(partitions, ends, strict=True)])
        self._consumer = consumer
        self._thread = threading.Thread(target=self._follow, name="score-waiter", daemon=True)
        self._thread.start()

    def expect(self, submission_id: UUID) -> asyncio.Future[ScoreEvent]:
        assert self._loop is not None, "start() first"
        future = self._loop.create_future()
        self._futures[submission_id] = future
        return future

    def forget(self, submission_id: UUID) -> None:
        self._futures.pop(submission_id, None)

    def listen(self) -> asyncio.Queue[ScoreEvent]:
        """A queue of every live score from now on; `unlisten` it when done."""
        queue: asyncio.Queue[ScoreEvent] = asyncio.Queue(maxsize=1000)
        self._listeners.add(queue)
        return queue

    def unlisten(self, queue: asyncio.Queue[ScoreEvent]) -> None:
        self._listeners.discard(queue)

    def _follow(self) -> None:
        assert self._consumer is not None and self._loop is not None
        while not self._stop.is_set():
            # The first record as soon as it comes, then whatever is already fetched: consume(500, 0.1)
            # would hold every score until 500 records or 100 ms, delaying each synchronous answer.
            first = self._consumer.poll(0.1)
            for record in [] if first is None else [first, *self._consumer.consume(500, 0)]:
                if record.error() is not None:
                    continue
                try:
                    event = ScoreEvent.model_validate_json(record.value() or b"")
                except ValidationError:
                    continue
                if event.replayed:  # a re-score by a replay, not the answer a request awaits
                    continue
                self._loop.call_soon_threadsafe(self._resolve, event)

    def _resolve(self, event: ScoreEvent) -> None:
        future = self._futures.pop(event.submission_id, None)
        if future is not None and not future.done():
            future.set_result(event)
        for queue in self._listeners:
            if not queue.full():  # a listener that does not keep up misses scores, nobody waits for it
                queue.put_nowait(event)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self._consumer is not None:
            self._consumer.close()
