"""Score waiter: lets a request wait for the score of the text it just submitted.

A follower (stream/follower.py) reads [scores] from its end in a background thread; the waiter resolves
every asyncio future registered for that submission id (two requests may wait for one submission: an
idempotent retry beside the request it retries). A request registers before it produces, so it cannot
miss its score. Scores produced by a replay are not answers to requests and are passed over.
Listeners (`listen`: the web page's recent list) get every live score as it comes, on a bounded queue
that drops when it is full.
"""

import asyncio
from uuid import UUID

from confluent_kafka import Message
from pydantic import ValidationError

from schemas.events import ScoreEvent
from stream.follower import TopicFollower
from stream.settings import KafkaSettings

__all__ = ["ScoreWaiter"]


class ScoreWaiter:
    def __init__(self, kafka: KafkaSettings) -> None:
        self._follower = TopicFollower(kafka, [kafka.topics.scores], "gateway-waiter", _live_score)
        self._futures: dict[UUID, list[asyncio.Future[ScoreEvent]]] = {}
        self._listeners: set[asyncio.Queue[ScoreEvent]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._follower.start(loop, self._resolve)

    def expect(self, submission_id: UUID) -> asyncio.Future[ScoreEvent]:
        assert self._loop is not None, "start() first"
        future = self._loop.create_future()
        self._futures.setdefault(submission_id, []).append(future)
        return future

    def forget(self, submission_id: UUID, future: asyncio.Future[ScoreEvent]) -> None:
        """`future` no longer waits (answered, or its request gave up)."""
        futures = self._futures.get(submission_id, [])
        if future in futures:
            futures.remove(future)
        if not futures:
            self._futures.pop(submission_id, None)

    def listen(self) -> asyncio.Queue[ScoreEvent]:
        """A queue of every live score from now on; `unlisten` it when done."""
        queue: asyncio.Queue[ScoreEvent] = asyncio.Queue(maxsize=1000)
        self._listeners.add(queue)
        return queue

    def unlisten(self, queue: asyncio.Queue[ScoreEvent]) -> None:
        self._listeners.discard(queue)

    def _resolve(self, event: ScoreEvent) -> None:
        for future in self._futures.pop(event.submission_id, []):
            if not future.done():
                future.set_result(event)
        for queue in self._listeners:
            if not queue.full():  # a listener that does not keep up misses scores, nobody waits for it
                queue.put_nowait(event)

    def close(self) -> None:
        self._follower.close()


def _live_score(record: Message) -> ScoreEvent | None:
    """The score a record holds; None for a replay's re-score (no request awaits it) or an undecodable one."""
    try:
        event = ScoreEvent.model_validate_json(record.value() or b"")
    except ValidationError:
        return None
    return None if event.replayed else event
