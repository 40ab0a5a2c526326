"""Prometheus plumbing shared by the components: one registry per component, what every worker
loop reports (consumer lag per partition, dead letters), and the small HTTP endpoint a worker
serves them on.

- Each component builds its own `CollectorRegistry` (with the process collector, so the resident
  memory is `process_resident_memory_bytes`), so two workers in one process never share counters.
- Consumer lag comes from librdkafka's statistics (`statistics.interval.ms`): per assigned
  partition, the log end offset minus the group's committed offset. The workers commit only after
  their output is durable, so the lag counts records not yet durably handled. A follower that
  never commits (the bridge's, reading outcomes from the end) is measured from the last record it
  read instead.
- A worker's endpoint answers `/metrics` and `/healthz` (the process answers, with its pid, so that
  `veritext up` knows its own child from whatever else holds the port; a worker whose loop fails
  exits, so an answering process is a live one).
"""

import json
import logging
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    PlatformCollector,
    ProcessCollector,
    make_wsgi_app,
)

from schemas.errors import ConfigError

__all__ = ["ConsumerLag", "WorkerMetrics", "new_registry", "serving_metrics"]

log = logging.getLogger(__name__)


def new_registry() -> CollectorRegistry:
    """A registry with the process (RSS, CPU, open files), platform and GC collectors."""
    registry = CollectorRegistry()
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    return registry


class ConsumerLag:
    """`veritext_consumer_lag{group,topic,partition}`, fed by a consumer's statistics callback.

    Only partitions assigned to this consumer are reported; a partition taken away by a
    rebalance disappears from this process's series (another member reports it)."""

    def __init__(self, registry: CollectorRegistry, group: str, interval_ms: int = 5_000) -> None:
        self._group = group
        self._interval_ms = interval_ms
        self._gauge = Gauge(
            "veritext_consumer_lag",
            "records in a partition after the group's committed offset (not yet durably handled); "
            "for a follower that never commits, after the last record it read",
            ["group", "topic", "partition"],
            registry=registry,
        )
        self._reported: set[tuple[str, str]] = set()

    def consumer_config(self, *, commits: bool = True) -> dict[str, Any]:
        """Settings to merge into the consumer's configuration; `commits=False` for a consumer that
        never commits offsets (its lag is counted from the last record handed to it)."""
        lag = _lag if commits else _read_lag
        return {"statistics.interval.ms": self._interval_ms, "stats_cb": lambda raw: self._on_statistics(raw, lag)}

    def _on_statistics(self, raw: str, lag_of: Callable[[dict[str, Any]], int | None]) -> None:
        stats = json.loads(raw)
        seen: set[tuple[str, str]] = set()
        for topic, topic_stats in stats.get("topics", {}).items():
            for partition, p in topic_stats.get("partitions", {}).items():
                if partition == "-1" or p.get("fetch_state") != "active":
                    continue
                lag = lag_of(p)
                if lag is None:
                    continue
                self._gauge.labels(self._group, topic, partition).set(lag)
                seen.add((topic, partition))
        for topic, partition in self._reported - seen:
            self._gauge.remove(self._group, topic, partition)
        self._reported = seen


def _lag(partition: dict[str, Any]) -> int | None:
    """librdkafka's `consumer_lag`; before the group's first commit on the partition, which
    librdkafka leaves unknown, everything since the log start (the group reads from the earliest)."""
    if partition.get("consumer_lag", -1) >= 0:
        return partition["consumer_lag"]
    start, end = partition.get("lo_offset", -1), partition.get("hi_offset", -1)
    if partition.get("committed_offset", -1) < 0 and start >= 0 and end >= 0:
        return end - start
    return None


def _read_lag(partition: dict[str, Any]) -> int | None:
    """librdkafka's `consumer_lag_stored`: the log end offset minus the offset after the last record
    handed to the application (stored automatically as each record is handed over). Before the
    first record is handed over, which librdkafka leaves unknown, from the fetch position (0 for a
    partition nothing was written to since the consumer was assigned it)."""
    if partition.get("consumer_lag_stored", -1) >= 0:
        return partition["consumer_lag_stored"]
    end, position = partition.get("hi_offset", -1), partition.get("next_offset", -1)
    if partition.get("stored_offset", -1) < 0 and end >= position >= 0:
        return end - position
    return None


class WorkerMetrics:
    """What every worker loop reports. Components extend it with their own metrics."""

    def __init__(self, group: str, registry: CollectorRegistry | None = None, lag_interval_ms: int = 5_000) -> None:
        self.registry = registry or new_registry()
        self.lag = ConsumerLag(self.registry, group, lag_interval_ms)
        self.dead_letters = Counter(
            "veritext_dead_letters",
            "records sent to the dead-letter topic, by the stage that could not process them",
            ["stage"],
            registry=self.registry,
        )


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Scrapes every few seconds are not worth a log line."""


def _app(registry: CollectorRegistry) -> Any:
    metrics = make_wsgi_app(registry)

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/metrics":
            return metrics(environ, start_response)
        if path == "/healthz":
            start_response("200 OK", [("Content-Type", "application/json")])
            return [json.dumps({"status": "ok", "pid": os.getpid()}).encode()]
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found: this endpoint serves /metrics and /healthz\n"]

    return app


@contextmanager
def serving_metrics(registry: CollectorRegistry, host: str, port: int, setting: str) -> Iterator[int | None]:
    """Serve `/metrics` and `/healthz` on `host:port` in a thread for the block; port 0 serves nothing.

    Yields the port served (None when off). `setting` names the variable to change when the
    port cannot be bound, for the error message."""
    if port == 0:
        yield None
        return
    try:
        server = make_server(host, port, _app(registry), server_class=_Server, handler_class=_QuietHandler)
    except OSError as exc:
        raise ConfigError(f"cannot serve metrics on {host}:{port} ({exc.strerror}); change {setting}") from exc
    thread = threading.Thread(target=server.serve_forever, name="metrics-http", daemon=True)
    thread.start()
    log.info("metrics on http://%s:%d/metrics", host, port)
    try:
        yield port
    finally:
        server.shutdown()
        server.server_close()
