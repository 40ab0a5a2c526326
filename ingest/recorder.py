"""Acknowledged means durable, also on a broker that forgets: the embedded Tansu keeps its topics in
memory, so when `KafkaSettings.volatile` is set, every intake (the gateway's routes, `veritext
ingest` and the RabbitMQ bridge) records each submission in the PostgreSQL log before it writes the event and answers
"accepted". `veritext up` then re-enqueues from the log whatever is neither scored nor failed each
time the broker (re)starts, so a power cut loses nothing that was acknowledged.

The recorder is a protocol the composition root fills (ingest does not import the sink); it raises
`ServiceUnavailable` when the database does not answer, and the intake answers 503 then. When the database
took the submission and the broker did not, `write_submission` raises `RecordedNotQueued`: the text is
durable and will be scored (`veritext up` re-enqueues what the log holds unscored, veritext/requeue.py),
and the gateway's 503 gives its id so the client does not send it a second time.
`write_submission` is the one way the asynchronous intakes (the gateway's routes, the bridge) write a
submission, through a `GroupRecorder`: the submissions of concurrent requests are recorded together, in one
transaction, while the previous one commits (group commit), so a request waits for one commit, not for
a database connection of its own. `veritext ingest` records a chunk at a time instead (ingest/bulk/run.py).
"""

import asyncio
from collections.abc import Sequence
from typing import Protocol
from uuid import UUID

from schemas.errors import DeliveryError, InputError, RecordedNotQueued, ServiceUnavailable
from schemas.events import SubmissionEvent, wire
from stream.producer import AsyncEventProducer

__all__ = ["WRITE_ERRORS", "GroupRecorder", "SubmissionRecorder", "write_submission"]

# what `write_submission` raises when the submission is not durable: the database or the broker refused
WRITE_ERRORS = (DeliveryError, ServiceUnavailable, TimeoutError)


class SubmissionRecorder(Protocol):
    def record(self, events: Sequence[bytes]) -> None:
        """Store the submissions, given in their wire form (`schemas.events.wire`, what the intake sends
        next), idempotently: a retried or redelivered one stays one row; raises
        `InputError` when one of them cannot be stored as it is, `ServiceUnavailable` when the database
        does not answer."""


_Waiting = tuple[SubmissionEvent, "asyncio.Future[None]"]  # an event and its caller's answer


class GroupRecorder:
    """Records the submissions of concurrent callers in groups of at most `max_group`, one transaction
    each, one after another: whoever arrives while a group commits joins the next one (events of one
    submission never share a group). A group the database refuses for one of its events (`InputError`) is
    recorded again event by event, so only that caller hears of it."""

    def __init__(self, recorder: SubmissionRecorder, max_group: int = 500) -> None:
        self._recorder = recorder
        self._max_group = max_group
        self._waiting: list[_Waiting] = []
        self._flusher: asyncio.Task[None] | None = None

    async def record(self, event: SubmissionEvent) -> None:
        recorded = asyncio.get_running_loop().create_future()
        self._waiting.append((event, recorded))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        await recorded

    async def _flush(self) -> None:
        while self._waiting:
            group, self._waiting = self._next_group()
            outcomes = await asyncio.to_thread(self._record, [event for event, _ in group])
            for (_, recorded), outcome in zip(group, outcomes, strict=True):
                if recorded.done():  # its caller went away; the submission is recorded all the same
                    continue
                if outcome is None:
                    recorded.set_result(None)
                else:
                    recorded.set_exception(outcome)

    def _next_group(self) -> tuple[list[_Waiting], list[_Waiting]]:
        """(group, the rest): up to `max_group` waiting events of distinct submissions, first come first;
        a second event of one submission (a retry racing under one Idempotency-Key) waits for the next
        group, so it meets the first one's row and its text is compared with the stored one."""
        group: list[_Waiting] = []
        rest: list[_Waiting] = []
        ids: set[UUID] = set()
        for waiting in self._waiting:
            event = waiting[0]
            if len(group) < self._max_group and event.submission_id not in ids:
                group.append(waiting)
                ids.add(event.submission_id)
            else:
                rest.append(waiting)
        return group, rest

    def _record(self, events: list[SubmissionEvent]) -> list[Exception | None]:
        """Each event's outcome: None once recorded, else what its caller must hear."""
        try:
            self._recorder.record([wire(event) for event in events])
        except InputError as exc:
            if len(events) == 1:
                return [exc]
            return [self._record([event])[0] for event in events]
        except Exception as exc:  # handed to every caller of the group, as if each had recorded alone
            return [exc] * len(events)
        return [None] * len(events)


async def write_submission(
    producer: AsyncEventProducer, topic: str, event: SubmissionEvent, recorder: GroupRecorder | None
) -> None:
    """Returns once `event` is durable: recorded first when `recorder` is set, then in the topic (its
    timestamp the submission's own). Raises one of `WRITE_ERRORS` otherwise."""
    if recorder is None:
        await producer.send(topic, str(event.submission_id), event, timestamp=event.submitted_at)
        return
    await recorder.record(event)
    try:
        await producer.send(topic, str(event.submission_id), event, timestamp=event.submitted_at)
    except (DeliveryError, ServiceUnavailable, TimeoutError) as exc:
        raise RecordedNotQueued(event.submission_id, exc) from exc
