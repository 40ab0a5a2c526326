"""The gateway's Prometheus metrics and where they are served: request counts and latency by route
and status, submissions durably produced by source, and the process collectors; `GET /metrics`.
The same middleware writes the access log: one line per request with its route, status and
duration, and the `submission_id` when the route names one (uvicorn's own access log is off).

Several gateway processes on one port (`VERITEXT_GATEWAY_WORKERS`) keep their counts in the folder
`PROMETHEUS_MULTIPROC_DIR` names (prometheus_client's multiprocess mode, set by `veritext up`), and
`GET /metrics` from any of them answers the sums over all of them, without the per-process collectors
(memory, CPU), which only describe the one that happened to answer.

Requests are labelled with the route's path template (`/v1/texts/{submission_id}`), never the raw
path, so ids do not explode the series; a path no route matches is `unmatched`. With API keys, requests
are also counted per key name (`veritext_gateway_key_requests`; `-` for no key; past `MAX_KEY_LABELS`
names, `other`), and the access log names the key, never the key itself. The middleware is plain ASGI,
so a streamed request body passes through untouched.
"""

import logging
import os
import time

from fastapi import FastAPI
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from stream.metrics import new_registry

__all__ = ["MAX_KEY_LABELS", "GatewayMetrics", "instrument"]

log = logging.getLogger(__name__)

MAX_KEY_LABELS = 200  # key names given their own series; the rest share `other`
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class GatewayMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or new_registry()
        self.requests = Counter(
            "veritext_gateway_requests", "HTTP requests answered", ["method", "route", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "veritext_gateway_request_seconds",
            "seconds from request to response",
            ["method", "route"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.key_requests = Counter(
            "veritext_gateway_key_requests",
            "HTTP requests answered, by API key name",
            ["key", "status"],
            registry=self.registry,
        )
        self._key_labels: set[str] = set()
        self.submissions = Counter(
            "veritext_submissions_produced",
            "submission events durably written to the log",
            ["source"],
            registry=self.registry,
        )

    def count_key(self, name: str | None, status: int) -> None:
        label = name or "-"
        if name is not None and name not in self._key_labels:
            if len(self._key_labels) < MAX_KEY_LABELS:
                self._key_labels.add(name)
            else:
                label = "other"
        self.key_requests.labels(label, str(status)).inc()


class _Instrumented:
    def __init__(self, app: ASGIApp, metrics: GatewayMetrics) -> None:
        self._app = app
        self._metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # unless a response starts: an exception escaped every handler

        async def send_and_see(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self._app(scope, receive, send_and_see)
        finally:
            seconds = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", "unmatched")
            method = scope["method"]
            self._metrics.requests.labels(method, route, str(status)).inc()
            self._metrics.latency.labels(method, route).observe(seconds)
            key = scope.get("state", {}).get("key_name")  # set by ingest/gateway/auth.py
            self._metrics.count_key(key, status)
            _log_request(scope, route, status, seconds, key)


def _log_request(scope: Scope, route: str, status: int, seconds: float, key: str | None) -> None:
    query = scope.get("query_string", b"").decode("latin-1")
    target = scope["path"] + (f"?{query}" if query else "")
    about = scope.get("path_params", {}).get("submission_id")
    client = scope.get("client")
    log.info(
        "%s %s %d %.1f ms",
        scope["method"],
        target,
        status,
        seconds * 1000,
        extra={
            "route": route,
            "status": status,
            "duration_ms": round(seconds * 1000, 3),
            "client": f"{client[0]}:{client[1]}" if client else None,
            **({"submission_id": about} if about else {}),
            **({"key": key} if key else {}),
        },
    )


def instrument(app: FastAPI, metrics: GatewayMetrics) -> None:
    """Count and time every request of `app`, and serve `metrics` at `GET /metrics`."""
    app.add_middleware(_Instrumented, metrics=metrics)

    @app.get("/metrics", include_in_schema=False)
    def serve_metrics() -> Response:
        return Response(generate_latest(_served(metrics.registry)), media_type=CONTENT_TYPE_LATEST)


def _served(registry: CollectorRegistry) -> CollectorRegistry:
    """This process's registry, or the sums over every gateway process when they share a folder."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not folder:
        return registry
    combined = CollectorRegistry()
    MultiProcessCollector(combined, path=folder)
    return combined
