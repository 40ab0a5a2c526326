"""The sink's Prometheus metrics: rows written per table, write latency per batch transaction and
end-to-end latency (submission event time to the score stored), webhook delivery attempts
(sink/webhooks.py), plus the worker metrics every loop has (consumer lag, dead letters).

Rows count only what the database newly inserted: a redelivered event the idempotent writes skip
is not counted again, so the counters equal the rows in the log written by this process.
"""

from prometheus_client import CollectorRegistry, Counter, Histogram

from stream.metrics import WorkerMetrics

__all__ = ["SinkMetrics"]

_WRITE_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
_END_TO_END_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600)


class SinkMetrics(WorkerMetrics):
    def __init__(self, group: str, registry: CollectorRegistry | None = None, lag_interval_ms: int = 5_000) -> None:
        super().__init__(group, registry, lag_interval_ms)
        r = self.registry
        self.rows_written = Counter(
            "veritext_sink_rows_written", "rows newly inserted into the log", ["table"], registry=r
        )
        self.write_seconds = Histogram(
            "veritext_sink_write_seconds", "seconds per batch transaction", buckets=_WRITE_BUCKETS, registry=r
        )
        self.webhook_attempts = Counter(
            "veritext_webhook_attempts",
            "webhook delivery attempts, by outcome: delivered, retry (it failed and is retried), dead",
            ["outcome"],
            registry=r,
        )
        self.end_to_end = Histogram(
            "veritext_end_to_end_seconds",
            "from the submission's event time to its score stored in the log",
            ["detector"],
            buckets=_END_TO_END_BUCKETS,
            registry=r,
        )
