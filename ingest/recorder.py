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
submission; `veritext ingest` records a chunk at a time instead (ingest/bulk/run.py).
"""

import asyncio
from collections.abc import Sequence
from typing import Protocol

from schemas.errors import DeliveryError, RecordedNotQueued, ServiceUnavailable
from schemas.events import SubmissionEvent
from stream.producer import AsyncEventProducer

__all__ = ["WRITE_ERRORS", "SubmissionRecorder", "write_submission"]

# what `write_submission` raises when the submission is not durable: the database or the broker refused
WRITE_ERRORS = (DeliveryError, ServiceUnavailable, TimeoutError)


class SubmissionRecorder(Protocol):
    def record(self, events: Sequence[SubmissionEvent]) -> None:
        """Store the submissions (idempotently: a retried or redelivered one stays one row)."""


async def write_submission(
    producer: AsyncEventProducer, topic: str, event: SubmissionEvent, recorder: SubmissionRecorder | None
) -> None:
    """Returns once `event` is durable: recorded first when `recorder` is set, then in the topic (its
    timestamp the submission's own). Raises one of `WRITE_ERRORS` otherwise."""
    if recorder is None:
        await producer.send(topic, str(event.submission_id), event, timestamp=event.submitted_at)
        return
    await asyncio.to_thread(recorder.record, [event])
    try:
        await producer.send(topic, str(event.submission_id), event, timestamp=event.submitted_at)
    except (DeliveryError, ServiceUnavailable, TimeoutError) as exc:
        raise RecordedNotQueued(event.submission_id, exc) from exc
