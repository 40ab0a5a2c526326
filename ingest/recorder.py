"""Acknowledged means durable, also on a broker that forgets: the embedded Tansu keeps its topics in
memory, so when `KafkaSettings.volatile` is set, every intake (the gateway's routes, `veritext
ingest` and the RabbitMQ bridge) records each submission in the PostgreSQL log before it writes the event and answers
"accepted". `veritext up` then re-enqueues from the log whatever is neither scored nor failed each
time the broker (re)starts, so a power cut loses nothing that was acknowledged.

The recorder is a protocol the composition root fills (ingest does not import the sink); it raises
`ServiceUnavailable` when the database does not answer, and the intake answers 503 then.
"""

from collections.abc import Sequence
from typing import Protocol

from schemas.events import SubmissionEvent

__all__ = ["SubmissionRecorder"]


class SubmissionRecorder(Protocol):
    def record(self, events: Sequence[SubmissionEvent]) -> None:
        """Store the submissions (idempotently: a retried or redelivered one stays one row)."""
