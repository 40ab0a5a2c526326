"""Re-enqueue from the PostgreSQL log what a volatile broker forgot: every submission with neither a
score nor a failure goes back to [submissions] under its own id, so it is scored exactly once more
(the sink's idempotent writes absorb a score that was already on its way). `veritext up` runs it each
time the embedded broker (re)starts; see ingest/recorder.py for the other half of the promise."""

import logging

from store.db import make_engine
from store.window import iter_unscored
from stream.producer import EventProducer, bulk_config
from stream.settings import KafkaSettings

__all__ = ["requeue_unscored"]

log = logging.getLogger(__name__)


def requeue_unscored(kafka: KafkaSettings, database_url: str) -> int:
    """Returns how many submissions went back to the topic."""
    engine = make_engine(database_url, pool_size=1)
    count = 0
    try:
        with EventProducer(kafka, bulk_config(1000)) as producer:
            for event in iter_unscored(engine):
                producer.send(kafka.topics.submissions, str(event.submission_id), event, timestamp=event.submitted_at)
                count += 1
            producer.flush()
    finally:
        engine.dispose()
    if count:
        log.warning("re-enqueued %d unscored submissions from the log", count)
    return count
