"""The two shapes a worker loop has. Both poll a batch, make its output durable, then commit the
batch's offsets, batch after batch in the order they were polled; signals only set the stop event.
`stop_when_idle_s` lets tests and batch jobs run a loop until the topic is drained.

- `run_batches`: handle each batch whole on the loop's thread (the sink).
- `run_pipelined`: a batch goes through three stages: `prepare` on the loop's thread, `compute` on one
  worker thread, `finish` (output made durable) back on the loop's thread, then the commit. While
  batch N computes, the loop polls and prepares batch N + 1; once N is computed, N + 1 starts computing
  before N is finished and committed, so the worker thread (the scorer's model) waits only for the
  hand-over. At most one batch computes and one waits prepared; a crash loses nothing, since a batch is
  committed only after its own output and every earlier batch's is durable.

A `budget` closes a batch early: it says how many of the polled records to handle now (at least one),
and the rest are sought back and come first in the next batch. The scorer budgets in tokens, so a
batch of long texts never outlives `max.poll.interval.ms`.
"""

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from confluent_kafka import Message

from stream.consumer import EventConsumer

__all__ = ["BatchHandler", "run_batches", "run_pipelined"]

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
            records = _poll(consumer, max_records, max_wait_s, budget)
            if not records:
                if stop_when_idle_s is not None and time.monotonic() - idle_since > stop_when_idle_s:
                    break
                continue
            handle(records)
            consumer.commit(records)
            handled += len(records)
            idle_since = time.monotonic()
    return handled


def run_pipelined(
    consumer: EventConsumer,
    prepare: Callable[[list[Message]], Any],
    compute: Callable[[Any], Any],
    finish: Callable[[list[Message], Any, Any], None],
    *,
    stop: threading.Event,
    max_records: int,
    max_wait_s: float,
    stop_when_idle_s: float | None = None,
    budget: Budget | None = None,
    thread_name: str = "compute",
) -> int:
    """Run until `stop` is set (or idle long enough), the batch in flight finished; returns the number
    of records handled. `finish(records, prepared, computed)` must return only once the output is durable."""
    handled = 0
    idle_since = time.monotonic()
    in_flight: tuple[list[Message], Any, Future] | None = None
    with consumer, ThreadPoolExecutor(max_workers=1, thread_name_prefix=thread_name) as worker:
        while True:
            polled = [] if stop.is_set() else _poll(consumer, max_records, max_wait_s, budget)
            prepared = prepare(polled) if polled else None
            if in_flight is None and not polled:
                idle = stop_when_idle_s is not None and time.monotonic() - idle_since > stop_when_idle_s
                if stop.is_set() or idle:
                    break
                continue
            done, in_flight = in_flight, None
            computed = done[2].result() if done else None  # the worker is free from here
            if polled:
                in_flight = (polled, prepared, worker.submit(compute, prepared))
            if done:
                finish(done[0], done[1], computed)
                consumer.commit(done[0])
                handled += len(done[0])
                idle_since = time.monotonic()
    return handled


def _poll(consumer: EventConsumer, max_records: int, max_wait_s: float, budget: Budget | None) -> list[Message]:
    records = consumer.poll_batch(max_records, max_wait_s)
    if records and budget is not None and (take := max(budget(records), 1)) < len(records):
        consumer.rewind(records[take:])
        records = records[:take]
    return records
