"""Sink worker: reads [submissions], [scores] and [dead-letter] and upserts them into PostgreSQL.

Each batch is written in one transaction, then its offsets are committed; a crash in between
replays the batch, which the idempotent writes absorb. A record that cannot be decoded is
dead-lettered (except on [submissions], where the scorer already does it). The writes themselves are
the store's (store/writer.py `write_log`): a row PostgreSQL refuses becomes a failure row and the rest
are stored, so one poison record never stops the sink.

Each newly stored row gets a log line carrying its `submission_id`; `metrics` (sink/metrics.py)
counts the rows and times the writes.
"""

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from confluent_kafka import Message
from pydantic import BaseModel, ValidationError
from sqlalchemy import Engine

from schemas.events import DeadLetterEvent, ScoreEvent, SubmissionEvent
from schemas.webhooks import WebhookSettings
from sink.metrics import SinkMetrics
from sink.webhooks import WebhookDeliverer
from store.webhooks import SqlWebhookOutbox
from store.writer import LogBatch, write_log
from stream.consumer import EventConsumer, origin, position
from stream.dead_letter import send_dead_letter
from stream.loop import run_batches
from stream.producer import EventProducer
from stream.settings import KafkaSettings

__all__ = ["SinkWorker"]

log = logging.getLogger(__name__)


class SinkWorker:
    def __init__(
        self,
        kafka: KafkaSettings,
        engine: Engine,
        *,
        group_id: str = "veritext-sink",
        max_batch: int = 500,
        max_wait_s: float = 0.2,
        metrics: SinkMetrics | None = None,
        webhooks: WebhookSettings | None = None,
    ) -> None:
        """`webhooks`: deliver the verdicts whose submission named a callback (sink/webhooks.py), in a
        thread beside the loop; None, or no secret: webhooks are off."""
        self._kafka = kafka
        self._topics = kafka.topics
        self._engine = engine
        self._group_id = group_id
        self._max_batch = max_batch
        self._max_wait_s = max_wait_s
        self._producer = EventProducer(kafka)
        self.metrics = metrics or SinkMetrics(group_id)
        self.stop = threading.Event()
        self._deliverer = None
        if webhooks is not None and webhooks.secret is not None:
            self._deliverer = WebhookDeliverer(SqlWebhookOutbox(engine), webhooks, self.metrics)
            self._deliverer.stop = self.stop

    def run(self, stop_when_idle_s: float | None = None) -> int:
        consumer = EventConsumer(self._kafka, self._group_id, self._topics.all(), self.metrics.lag.consumer_config())
        deliverer = None
        if self._deliverer is not None:
            deliverer = threading.Thread(target=self._deliverer.run, name="webhooks", daemon=True)
            deliverer.start()
        try:
            with self._producer:
                return run_batches(
                    consumer,
                    self._handle,
                    stop=self.stop,
                    max_records=self._max_batch,
                    max_wait_s=self._max_wait_s,
                    stop_when_idle_s=stop_when_idle_s,
                )
        finally:
            if deliverer is not None:
                self.stop.set()
                deliverer.join(30)

    def _handle(self, records: list[Message]) -> None:
        batch = LogBatch()
        parsers: dict[str, tuple[type[BaseModel], Callable[[BaseModel], None]]] = {
            self._topics.submissions: (SubmissionEvent, batch.submissions.append),  # type: ignore[dict-item]
            self._topics.scores: (ScoreEvent, batch.scores.append),  # type: ignore[dict-item]
            self._topics.dead_letter: (DeadLetterEvent, batch.failures.append),  # type: ignore[dict-item]
        }
        for record in records:
            model, keep = parsers[position(record)[0]]
            try:
                keep(model.model_validate_json(record.value() or b""))
            except ValidationError as exc:
                if record.topic() == self._topics.submissions:
                    log.warning("skipping bad submission %s (the scorer dead-letters it)", origin(record))
                else:
                    send_dead_letter(self._producer, self._topics, record, stage="sink", reason=str(exc))
                    self.metrics.dead_letters.labels("sink").inc()
        self._write(batch)
        self._producer.flush()

    def _write(self, batch: LogBatch) -> None:
        started = time.perf_counter()
        stored = write_log(self._engine, batch)
        self.metrics.write_seconds.observe(time.perf_counter() - started)
        self.metrics.dead_letters.labels("sink").inc(stored.refused)
        self._report(stored)

    def _report(self, stored: LogBatch) -> None:
        """Metrics and one log line per newly stored row; redelivered duplicates are not reported."""
        now = datetime.now(UTC)
        for table, rows in (
            ("submissions", stored.submissions),
            ("scores", stored.scores),
            ("failures", stored.failures),
        ):
            self.metrics.rows_written.labels(table).inc(len(rows))
        for submission in stored.submissions:
            log.info(
                "stored submission %s (source %s, %d chars)",
                submission.submission_id,
                submission.source,
                len(submission.text),
                extra={"submission_id": str(submission.submission_id)},
            )
        for score in stored.scores:
            detector = str(score.spec)
            self.metrics.end_to_end.labels(detector).observe(max((now - score.submitted_at).total_seconds(), 0.0))
            log.info(
                "stored score of submission %s by %s: probability %.3f",
                score.submission_id,
                detector,
                score.probability,
                extra={"submission_id": str(score.submission_id)},
            )
        for failure in stored.failures:
            log.info(
                "stored failure of submission %s at %s (%s): %s",
                failure.submission_id,
                failure.stage,
                failure.origin,
                failure.reason[:200],
                extra={"submission_id": str(failure.submission_id) if failure.submission_id else None},
            )
        log.info(
            "stored %d submissions, %d scores, %d failures",
            len(stored.submissions),
            len(stored.scores),
            len(stored.failures),
        )
