"""Replay: re-read a topic from a point in time, for re-scoring.

- Start: per partition, the offset for `since` (the broker's offsets-for-times lookup on record
  timestamps; submissions are produced with their `submitted_at` as timestamp).
- Stop: the end offsets captured when the replay is planned; records appended later are not read.
- Under a fresh consumer group, by assignment, committing nothing: no live group's committed
  offsets move, and no group has to rebalance.
- `missing_window` says when the topic no longer holds the window, so the caller can re-score
  from the PostgreSQL log instead.

The embedded broker (Tansu 0.6, memory storage) answers two of these lookups loosely, as
measured: the offset for any timestamp comes back as the earliest offset, and the high watermark
is the base offset of the last record batch + 1 rather than the offset after the last record.
The first only makes a replay read more than it needs (the caller filters on `submitted_at`); the
second would end it early, so each partition's end is confirmed by fetching its tail.
"""

import logging
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition

from schemas.errors import ServiceUnavailable
from stream.consumer import position
from stream.settings import KafkaSettings

__all__ = ["PartitionSpan", "ReplayPlan", "epoch_millis", "missing_window", "plan_replay", "read_plan"]

log = logging.getLogger(__name__)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_PROBE_TIMEOUT_S = 3.0
_POLL_S = 0.05  # `consume` waits this long for a full set of records: keep it short, the reader is waiting
_STALL_TIMEOUT_S = 30.0


def epoch_millis(moment: datetime) -> int:
    """Milliseconds since the epoch, exactly (record timestamps have millisecond precision)."""
    return (moment - _EPOCH) // timedelta(milliseconds=1)


@dataclass(frozen=True)
class PartitionSpan:
    partition: int
    start: int  # the first offset to read
    end: int  # the offset after the last record to read
    low: int  # the earliest offset the partition still holds
    first_ms: int | None  # the timestamp of that earliest record (None: the partition is empty)


@dataclass(frozen=True)
class ReplayPlan:
    topic: str
    since_ms: int
    spans: tuple[PartitionSpan, ...]

    @property
    def records(self) -> int:
        return sum(max(0, s.end - s.start) for s in self.spans)


def _consumer(settings: KafkaSettings, group_id: str | None) -> Consumer:
    return Consumer(
        {
            **settings.client_config(),
            "group.id": group_id or f"veritext-replay-{uuid.uuid4().hex}",
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "enable.partition.eof": True,  # the end of a partition whose last offsets hold no record
            "fetch.wait.max.ms": 50,  # a fetch at the end would hold a re-assigned partition back for 500 ms
            "auto.offset.reset": "earliest",
        }
    )


def plan_replay(settings: KafkaSettings, topic: str, since: datetime, timeout_s: float = 10.0) -> ReplayPlan | None:
    """What to read of `topic` from `since` on; None when the broker has no such topic."""
    since_ms = epoch_millis(since)
    consumer = _consumer(settings, None)
    try:
        metadata = consumer.list_topics(topic, timeout=timeout_s).topics.get(topic)
        if metadata is None or metadata.error is not None or not metadata.partitions:
            return None
        partitions = sorted(metadata.partitions)
        marks = {
            p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout_s, cached=False) for p in partitions
        }
        found = consumer.offsets_for_times([TopicPartition(topic, p, since_ms) for p in partitions], timeout_s)
        starts = {tp.partition: tp.offset if tp.error is None else marks[tp.partition][0] for tp in found}
        held = {p: low for p, (low, high) in marks.items() if high > low}
        heads = _probe(consumer, topic, held)
        tails = _probe(consumer, topic, {p: marks[p][1] - 1 for p in held})
    except KafkaException as exc:
        raise ServiceUnavailable(f"cannot plan a replay of {topic} at {settings.bootstrap}: {exc}") from exc
    finally:
        consumer.close()
    spans = []
    for p in partitions:
        low, high = marks[p]
        end = max(high, max((position(r)[2] + 1 for r in tails.get(p, [])), default=high))
        start = starts[p] if 0 <= starts[p] <= end else end  # -1: no record at or after `since`
        first = heads.get(p)
        spans.append(PartitionSpan(p, max(start, low), end, low, first[0].timestamp()[1] if first else None))
    return ReplayPlan(topic, since_ms, tuple(spans))


def _probe(consumer: Consumer, topic: str, offsets: dict[int, int]) -> dict[int, list[Message]]:
    """The records a first fetch at each `offsets[partition]` returns."""
    if not offsets:
        return {}
    consumer.assign([TopicPartition(topic, p, o) for p, o in offsets.items()])
    found: dict[int, list[Message]] = {}
    deadline = time.monotonic() + _PROBE_TIMEOUT_S
    while len(found) < len(offsets) and time.monotonic() < deadline:
        for record in consumer.consume(1000, _POLL_S):
            error = record.error()
            if error is None:
                found.setdefault(position(record)[1], []).append(record)
            elif error.code() == KafkaError._PARTITION_EOF:
                found.setdefault(position(record)[1], [])
    for record in consumer.consume(1000, 0):  # the rest of a batch fetched in the same response
        if record.error() is None:
            found.setdefault(position(record)[1], []).append(record)
    consumer.unassign()
    return found


def missing_window(plan: ReplayPlan | None, topic: str, earliest_logged: datetime | None) -> str | None:
    """Why the topic does not hold the whole window, or None when it does.

    `earliest_logged` is the earliest submission of the window in the PostgreSQL log: if the topic
    has nothing that old, it lost records the log still has (an embedded broker forgets its topics
    when it stops). A partition whose earliest retained record is later than `since`, with records
    deleted before it, lost the start of the window to retention.
    """
    if plan is None:
        return f"the broker has no topic {topic}"
    cut = [s.partition for s in plan.spans if s.low > 0 and s.first_ms is not None and s.first_ms > plan.since_ms]
    if cut:
        return f"retention removed the start of the window from {topic} (partitions {', '.join(map(str, cut))})"
    if earliest_logged is None:
        return None
    firsts = [s.first_ms for s in plan.spans if s.first_ms is not None]
    if not firsts:
        return f"{topic} is empty, but the log database holds submissions of the window"
    if epoch_millis(earliest_logged) < min(firsts):
        earliest_topic = datetime.fromtimestamp(min(firsts) / 1000, UTC)
        return (
            f"the log database holds submissions of the window from {earliest_logged.isoformat()}, "
            f"but {topic} starts at {earliest_topic.isoformat()} (the broker forgot the earlier records)"
        )
    return None


def read_plan(settings: KafkaSettings, plan: ReplayPlan, group_id: str | None = None) -> Iterator[Message]:
    """Every record of the plan, partition by partition in offset order, interleaved; stops by
    itself once each partition reached its end. Commits nothing."""
    todo = {s.partition: s.end for s in plan.spans if s.start < s.end}
    if not todo:
        return
    consumer = _consumer(settings, group_id)
    try:
        consumer.assign([TopicPartition(plan.topic, s.partition, s.start) for s in plan.spans if s.partition in todo])
        last_record = time.monotonic()
        while todo:
            records = consumer.consume(500, _POLL_S)
            for record in records:
                error = record.error()
                if error is not None:
                    if error.code() == KafkaError._PARTITION_EOF:
                        _, partition, offset = position(record)
                        if offset >= todo.get(partition, 0):
                            todo.pop(partition, None)
                    elif error.fatal():
                        raise ServiceUnavailable(f"replay of {plan.topic} failed: {error.str()}")
                    continue
                _, partition, offset = position(record)
                end = todo.get(partition)
                if end is None or offset >= end:
                    continue
                yield record
                if offset >= end - 1:
                    del todo[partition]
            if records:
                last_record = time.monotonic()
            elif time.monotonic() - last_record > _STALL_TIMEOUT_S:
                where = ", ".join(f"{plan.topic}[{p}] before {end}" for p, end in sorted(todo.items()))
                raise ServiceUnavailable(f"the replay stalled: no records for {_STALL_TIMEOUT_S:g}s at {where}")
    except KafkaException as exc:
        raise ServiceUnavailable(f"replay of {plan.topic} failed: {exc}") from exc
    finally:
        consumer.close()
