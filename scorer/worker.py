"""Scoring worker: consumes [submissions] in micro-batches, scores them, produces [scores].

A micro-batch closes at `max_batch` records, at `max_batch_tokens` estimated tokens (a text's UTF-8
bytes / 4: about right for English, high for Russian, which is the safe side), or after `max_wait_ms`,
whichever comes first; records past the token budget come first in the next batch (stream/loop.py). The
model runs in this thread; Kafka heartbeats run in librdkafka's own thread, so a long forward pass does
not starve them; a batch must still finish within the scorer's own `max.poll.interval.ms` (300 s by
default), which the token budget keeps it well inside (16,384 tokens take ~20 s on 2 CPU cores).
Scores and dead letters are flushed (acknowledged by the broker)
before the offsets are committed, so a crash redelivers and never loses; the sink's idempotent
writes keep a redelivered score from becoming a second row.

A submission may name a detector (`detector`, NAME@VERSION): a scorer scores the submissions that name
its own detector, and the default scorer (`serves_unnamed`) also those that name none; it passes over
the rest (their offsets are committed with the batch), which the scorer of their detector, in a consumer
group of its own, scores.

Every log line about one text carries its `submission_id`; `metrics` (scorer/metrics.py) counts
what the batches did.
"""

import logging
import threading
from datetime import UTC, datetime

from confluent_kafka import Message
from pydantic import ValidationError

from schemas.events import SubmissionEvent
from scorer.detectors.base import Detector
from scorer.metrics import ScorerMetrics
from scorer.scoring import Job, score_jobs
from stream.consumer import EventConsumer, origin
from stream.dead_letter import send_dead_letter
from stream.loop import run_batches
from stream.producer import EventProducer
from stream.settings import KafkaSettings

__all__ = ["ScoringWorker"]

log = logging.getLogger(__name__)

BYTES_PER_TOKEN = 4


class ScoringWorker:
    def __init__(
        self,
        kafka: KafkaSettings,
        detector: Detector,
        *,
        group_id: str = "veritext-scorer",
        max_batch: int = 16,
        max_wait_s: float = 0.05,
        max_batch_tokens: int = 16_384,
        max_poll_interval_ms: int = 300_000,
        metrics: ScorerMetrics | None = None,
        serves_unnamed: bool = True,
    ) -> None:
        self._kafka = kafka
        self._topics = kafka.topics
        self._detector = detector
        self._group_id = group_id
        self._max_batch = max_batch
        self._max_wait_s = max_wait_s
        self._max_batch_tokens = max_batch_tokens
        self._serves_unnamed = serves_unnamed
        self._spec = f"{detector.name}@{detector.version}"
        self.metrics = metrics or ScorerMetrics(group_id)
        self._consumer_config = {"max.poll.interval.ms": max_poll_interval_ms, **self.metrics.lag.consumer_config()}
        self._producer = EventProducer(kafka)
        self.stop = threading.Event()

    def run(self, stop_when_idle_s: float | None = None) -> int:
        consumer = EventConsumer(self._kafka, self._group_id, [self._topics.submissions], self._consumer_config)
        log.info(
            "scoring with %s@%s, batches of up to %d",
            self._detector.name,
            self._detector.version,
            self._max_batch,
        )
        with self._producer:
            return run_batches(
                consumer,
                self._handle,
                stop=self.stop,
                max_records=self._max_batch,
                max_wait_s=self._max_wait_s,
                stop_when_idle_s=stop_when_idle_s,
                budget=self._within_token_budget,
            )

    def _within_token_budget(self, records: list[Message]) -> int:
        """How many of `records`, from the first, fit in `max_batch_tokens` (estimated from their size)."""
        tokens = 0
        for taken, record in enumerate(records):
            tokens += len(record.value() or b"") // BYTES_PER_TOKEN
            if tokens > self._max_batch_tokens:
                return taken
        return len(records)

    def _handle(self, records: list[Message]) -> None:
        jobs: list[Job] = []
        for record in records:
            try:
                event = SubmissionEvent.model_validate_json(record.value() or b"")
            except ValidationError as exc:
                send_dead_letter(self._producer, self._topics, record, stage="scorer", reason=str(exc))
                self.metrics.dead_letters.labels("scorer").inc()
                continue
            if event.detector == self._spec or (event.detector is None and self._serves_unnamed):
                jobs.append(Job(event, origin(record), record.value() or b""))
        if jobs:
            now = datetime.now(UTC)
            for job in jobs:
                self.metrics.queue_wait.observe(max((now - job.event.submitted_at).total_seconds(), 0.0))
            outcome = score_jobs(self._detector, jobs, self._producer, self._topics)
            self.metrics.observe_batch(
                f"{self._detector.name}@{self._detector.version}",
                size=len(jobs),
                seconds=outcome.seconds,
                texts=outcome.scored,
                tokens=outcome.tokens,
            )
            self.metrics.dead_letters.labels("scorer").inc(outcome.failed)
        self._producer.flush()
