"""Scoring worker: consumes [submissions] in micro-batches, scores them, produces [scores].

A micro-batch closes at `max_batch_tokens` estimated tokens (scorer/scoring.py `estimated_tokens`), at
`max_batch` records (a cap; the token budget is what closes batches) or after `max_wait_ms`, whichever
comes first; records past the token budget come first in the next batch (stream/loop.py).

The work is pipelined (stream/loop.py `run_pipelined`): this thread polls a batch, parses it and has the
detector prepare its texts (tokens, languages, segment plans; scorer/detectors/base.py `stages`) while
the model runs the previous batch on the model thread; once that batch is scored, the next one goes to
the model and this thread sends the scores. Kafka heartbeats run in librdkafka's own thread, so a long
forward pass does not starve them; a batch must still finish within the scorer's own
`max.poll.interval.ms` (300 s by default), which the token budget keeps it well inside (16,384 tokens
take ~20 s on 2 CPU cores). Scores and dead letters are flushed (acknowledged by the broker) before the
offsets are committed, batch after batch in order, so a crash redelivers and never loses; the sink's
idempotent writes keep a redelivered score from becoming a second row.

A submission may name a detector (`detector`, NAME@VERSION): a scorer scores the submissions that name
its own detector, and the default scorer (`serves_unnamed`) also those that name none; it passes over
the rest (their offsets are committed with the batch), which the scorer of their detector, in a consumer
group of its own, scores.

Every log line about one text carries its `submission_id`; `metrics` (scorer/metrics.py) counts
what the batches did.
"""

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple

from confluent_kafka import Message
from pydantic import ValidationError

from schemas.detector_spec import DetectorSpec
from schemas.errors import DetectorError
from schemas.events import SubmissionEvent
from schemas.verdict import Verdict
from scorer.detectors.base import Detector, stages
from scorer.metrics import ScorerMetrics
from scorer.scoring import Job, ModelOutcome, estimated_tokens, run_model, send_outcome
from stream.consumer import EventConsumer, origin
from stream.dead_letter import send_dead_letter
from stream.loop import run_pipelined
from stream.producer import EventProducer
from stream.settings import KafkaSettings

__all__ = ["ScoringWorker"]

log = logging.getLogger(__name__)


class Prepared(NamedTuple):
    """A batch ready for the model: the jobs to score, what the detector made of their texts, and the
    detector's stage that scores it."""

    jobs: list[Job]
    inputs: Sequence[Any]
    score: Callable[[Sequence[Any]], list[Verdict]]


class ScoringWorker:
    def __init__(
        self,
        kafka: KafkaSettings,
        detector: Detector,
        *,
        group_id: str = "veritext-scorer",
        max_batch: int = 256,
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
        self._spec = str(DetectorSpec(detector.name, detector.version))
        self._prepare, self._score = stages(detector)
        self.metrics = metrics or ScorerMetrics(group_id)
        self._consumer_config = {"max.poll.interval.ms": max_poll_interval_ms, **self.metrics.lag.consumer_config()}
        self._producer = EventProducer(kafka)
        self.stop = threading.Event()

    def run(self, stop_when_idle_s: float | None = None) -> int:
        consumer = EventConsumer(self._kafka, self._group_id, [self._topics.submissions], self._consumer_config)
        log.info(
            "scoring with %s, batches of up to %d tokens (%d texts)",
            self._spec,
            self._max_batch_tokens,
            self._max_batch,
        )
        with self._producer:
            return run_pipelined(
                consumer,
                self._prepare_batch,
                self._run_model,
                self._send,
                stop=self.stop,
                max_records=self._max_batch,
                max_wait_s=self._max_wait_s,
                stop_when_idle_s=stop_when_idle_s,
                budget=self._within_token_budget,
                thread_name="model",
            )

    def _within_token_budget(self, records: list[Message]) -> int:
        """How many of `records`, from the first, fit in `max_batch_tokens` (estimated from their size)."""
        tokens = 0
        for taken, record in enumerate(records):
            tokens += estimated_tokens(record.value() or b"")
            if tokens > self._max_batch_tokens:
                return taken
        return len(records)

    def _prepare_batch(self, records: list[Message]) -> Prepared:
        """On the loop's thread: the batch's jobs (invalid events dead-lettered) and their prepared texts;
        if the detector cannot prepare the batch, its texts, for the model stage to score and isolate."""
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
        texts = [job.window.text for job in jobs]
        try:
            return Prepared(jobs, self._prepare(texts), self._score)
        except DetectorError as exc:
            log.warning("could not prepare a batch of %d texts (%s); scoring it whole", len(texts), exc)
            return Prepared(jobs, texts, self._detector.score)

    def _run_model(self, batch: Prepared) -> ModelOutcome | None:
        """On the model's thread."""
        return run_model(batch.score, self._detector.name, batch.jobs, batch.inputs) if batch.jobs else None

    def _send(self, records: list[Message], batch: Prepared, outcome: ModelOutcome | None) -> None:
        """On the loop's thread: queue the batch's scores and dead letters and wait until they are durable."""
        if outcome is not None:
            now = datetime.now(UTC)
            for job in batch.jobs:
                self.metrics.queue_wait.observe(max((now - job.event.submitted_at).total_seconds(), 0.0))
            sent = send_outcome(self._detector, outcome, self._producer, self._topics)
            self.metrics.observe_batch(
                self._spec, size=len(batch.jobs), seconds=sent.seconds, texts=sent.scored, tokens=sent.tokens
            )
            self.metrics.dead_letters.labels("scorer").inc(sent.failed)
        self._producer.flush()
