"""The one shape every worker loop has: poll a batch, handle it (the handler returns only once
its output is durable), then commit the batch's offsets. Signals only set the stop event.
`stop_when_idle_s` lets tests and batch jobs run a loop until the topic is drained.

A `budget` closes a batch early: it says how many of the polled records to handle now (at least one),
and the rest are sought back and come first in the next batch. The scorer budgets in tokens, so a
batch of long texts never outlives `max.poll.interval.ms`.
"""

import logging
import threading
import time
from collections.abc import Callable

from confluent_kafka import Message

from stream.consumer import EventConsumer

__all__ = ["BatchHandler", "run_batches"]

log = logging.getLogger(__name__)

BatchHandler = Callable[[list[Message]], None]
Budget = Callable[[list[Message]], int]


def run_batches(
    consumer: EventConsumer,
    handle: BatchHandler,
    *,
    stop: threading.Event,
    max_records: int,
    max_wait_s: float,
    stop_when_idle_s: float | None = None,
    budget: Budget | None = None,
) -> int:
    """Run until `stop` is set (or idle long enough); returns the number of records handled."""
    handled = 0
    idle_since = time.monotonic()
    with consumer:
        while not stop.is_set():
            records = consumer.poll_batch(max_records, max_wait_s)
            if not records:
                if stop_when_idle_s is not None and time.monotonic() - idle_since > stop_when_idle_s:
                    break
                continue
            if budget is not None and (take := max(budget(records), 1)) < len(records):
                consumer.rewind(records[take:])
                records = records[:take]
            handle(records)
            consumer.commit(records)
            handled += len(records)
            idle_since = time.monotonic()
    return handled
