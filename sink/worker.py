"""Sink worker: reads [submissions], [scores] and [dead-letter] and upserts them into PostgreSQL.

Each batch is written in one transaction, then its offsets are committed; a crash in between
replays the batch, which the idempotent writes absorb. A record that cannot be decoded is
dead-lettered (except on [submissions], where the scorer already does it). A batch PostgreSQL
refuses (a value it cannot store, such as a NUL character from a producer that skipped the intake
rule) is written again row by row, each in a savepoint: the refused rows become failure rows with
PostgreSQL's reason, keyed by what they are about (`sink:<submission id>[@detector]`), and the rest are stored,
so one poison record never stops the sink.

Each newly stored row gets a log line carrying its `submission_id`; `metrics` (sink/metrics.py)
counts the rows and times the writes.
"""

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from confluent_kafka import Message
from pydantic import BaseModel, ValidationError
from sqlalchemy import Engine
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from sqlalchemy.orm import Session

from schemas.errors import ServiceUnavailable
from schemas.events import DeadLetterEvent, ScoreEvent, SubmissionEvent
from sink.metrics import SinkMetrics
from sink.writer import write_failures, write_scores, write_submissions
from stream.consumer import EventConsumer, origin
from stream.dead_letter import send_dead_letter
from stream.loop import run_batches
from stream.producer import EventProducer
from stream.settings import KafkaSettings

__all__ = ["SinkWorker"]

log = logging.getLogger(__name__)

_WRITE_ATTEMPTS = 5


@dataclass
class _Batch:
    submissions: list[SubmissionEvent] = field(default_factory=list)
    scores: list[ScoreEvent] = field(default_factory=list)
    failures: list[DeadLetterEvent] = field(default_factory=list)


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
    ) -> None:
        self._kafka = kafka
        self._topics = kafka.topics
        self._engine = engine
        self._group_id = group_id
        self._max_batch = max_batch
        self._max_wait_s = max_wait_s
        self._producer = EventProducer(kafka)
        self.metrics = metrics or SinkMetrics(group_id)
        self.stop = threading.Event()

    def run(self, stop_when_idle_s: float | None = None) -> int:
        consumer = EventConsumer(self._kafka, self._group_id, self._topics.all(), self.metrics.lag.consumer_config())
        with self._producer:
            return run_batches(
                consumer,
                self._handle,
                stop=self.stop,
                max_records=self._max_batch,
                max_wait_s=self._max_wait_s,
                stop_when_idle_s=stop_when_idle_s,
            )

    def _handle(self, records: list[Message]) -> None:
        batch = _Batch()
        parsers: dict[str, tuple[type[BaseModel], Callable[[BaseModel], None]]] = {
            self._topics.submissions: (SubmissionEvent, batch.submissions.append),  # type: ignore[dict-item]
            self._topics.scores: (ScoreEvent, batch.scores.append),  # type: ignore[dict-item]
            self._topics.dead_letter: (DeadLetterEvent, batch.failures.append),  # type: ignore[dict-item]
        }
        for record in records:
            model, keep = parsers[record.topic()]
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

    def _write(self, batch: _Batch) -> None:
        for attempt in range(1, _WRITE_ATTEMPTS + 1):
            try:
                started = time.perf_counter()
                try:
                    with Session(self._engine) as session, session.begin():
                        stored = _Batch(
                            write_submissions(session, batch.submissions),
                            write_scores(session, batch.scores),
                            write_failures(session, batch.failures),
                        )
                except (DataError, IntegrityError) as exc:
                    log.warning("PostgreSQL refused a row of the batch (%s); writing its rows one by one", exc.orig)
                    stored = self._write_isolating(batch)
                self.metrics.write_seconds.observe(time.perf_counter() - started)
                self._report(stored)
                return
            except OperationalError as exc:
                if attempt == _WRITE_ATTEMPTS:
                    raise ServiceUnavailable(f"PostgreSQL write failed {attempt} times: {exc}") from exc
                log.warning("PostgreSQL write failed (attempt %d), retrying: %s", attempt, exc)
                time.sleep(2**attempt * 0.25)

    def _write_isolating(self, batch: _Batch) -> _Batch:
        """Each row in a savepoint of its own: a row PostgreSQL refuses becomes a failure row with the
        reason, keyed by what it is about, and every other row is stored."""
        stored, refused = _Batch(), []
        writes = [
            *((e, write_submissions, stored.submissions, "submission", None) for e in batch.submissions),
            *(
                (e, write_scores, stored.scores, "score", f"{e.detector_name}@{e.detector_version}")
                for e in batch.scores
            ),
            *((e, write_failures, stored.failures, f"failure {e.subject}", None) for e in batch.failures),
        ]
        with Session(self._engine) as session, session.begin():
            for event, write, kept, what, detector in writes:
                try:
                    with session.begin_nested():
                        kept.extend(write(session, [event]))
                except (DataError, IntegrityError) as exc:
                    reason = f"PostgreSQL refused the {what} row: {str(exc.orig).splitlines()[0]}"
                    log.error("%s", reason, extra={"submission_id": str(event.submission_id)})
                    refused.append(
                        DeadLetterEvent(
                            submission_id=event.submission_id,
                            stage="sink",
                            reason=reason,
                            origin=f"sink {what} write"[:300],
                            payload=event.model_dump_json().encode("utf-8", "replace").decode()[:10_000],
                            detector=detector,
                        )
                    )
            self.metrics.dead_letters.labels("sink").inc(len(refused))
            stored.failures.extend(write_failures(session, refused))
        return stored

    def _report(self, stored: _Batch) -> None:
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
            detector = f"{score.detector_name}@{score.detector_version}"
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
