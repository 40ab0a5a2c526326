"""Re-enqueue from the PostgreSQL log what a volatile broker never got or forgot: a submission with
neither a score nor a failure goes back to [submissions] under its own id, so it is scored exactly once
more (the sink's idempotent writes absorb a score that was already on its way). See ingest/recorder.py
for the other half of the promise. `veritext up` runs

- `requeue_unscored` each time the embedded broker (re)starts: everything unscored;
- `requeue_stragglers` every `STRAGGLER_CHECK_S`: what was recorded but whose event the broker did not
  take (a stall: the gateway answered 503 with the submission's id, ingest/recorder.py `RecordedNotQueued`),
  found as the submissions older than `STRAGGLER_AGE_S` still unscored while neither the scorers nor the
  sink have anything left to read: nothing on its way can then be such a submission. A submission sent to
  an extra detector's scorer (another group, not read here) may be re-sent while that scorer is behind;
  it is then scored twice and stored once.
"""

import logging
from datetime import UTC, datetime, timedelta

from schemas.errors import DeliveryError, ServiceUnavailable
from store.db import make_engine
from store.window import iter_unscored
from stream.lag import group_lag, partition_offsets
from stream.producer import EventProducer, bulk_config
from stream.settings import KafkaSettings

__all__ = ["STRAGGLER_AGE_S", "STRAGGLER_CHECK_S", "requeue_stragglers", "requeue_unscored"]

log = logging.getLogger(__name__)

STRAGGLER_AGE_S = 120.0
STRAGGLER_CHECK_S = 60.0


def requeue_unscored(kafka: KafkaSettings, database_url: str, before: datetime | None = None) -> int:
    """Returns how many submissions (submitted before `before`, if given) went back to the topic."""
    engine = make_engine(database_url, pool_size=1)
    count = 0
    try:
        with EventProducer(kafka, bulk_config(1000)) as producer:
            for event in iter_unscored(engine, before=before):
                producer.send(kafka.topics.submissions, str(event.submission_id), event, timestamp=event.submitted_at)
                count += 1
            producer.flush()
    finally:
        engine.dispose()
    if count:
        log.warning("re-enqueued %d unscored submissions from the log", count)
    return count


def requeue_stragglers(kafka: KafkaSettings, database_url: str, scorer_group: str, sink_group: str) -> int:
    """Re-enqueue the submissions recorded but never queued (see the module docstring); 0 while the
    scorers or the sink are behind, or when the broker or the database does not answer (tried again later)."""
    topics = kafka.topics
    try:
        offsets = partition_offsets(kafka, [topics.submissions, topics.scores], timeout_s=5.0)
        submissions = [o for o in offsets if o.topic == topics.submissions]
        behind = sum(lag.lag for lag in group_lag(kafka, scorer_group, submissions, timeout_s=5.0))
        behind += sum(lag.lag for lag in group_lag(kafka, sink_group, offsets, timeout_s=5.0))
        if behind:
            return 0
        before = datetime.now(UTC) - timedelta(seconds=STRAGGLER_AGE_S)
        return requeue_unscored(kafka, database_url, before=before)
    except (ServiceUnavailable, DeliveryError) as exc:
        log.info("stragglers not checked: %s", exc)
        return 0
