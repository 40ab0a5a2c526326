"""Admission control at the door: a submission the gateway cannot answer in time is answered 503 with
`Retry-After` at once, before its body is read, instead of queueing behind the others until every client
times out (and retries, adding more).

Two bounds, per gateway process:

- `max_in_flight` submissions of any kind in progress at once (a hard cap);
- for the quick submissions (`POST /v1/texts` without `?wait=`: acknowledged once durable), a limit
  that follows their latency (additive increase, multiplicative decrease, over windows of `WINDOW`
  answers): it grows by one after a window whose answers came within `target_latency_ms` (all but
  `SLOW_SHARE` of them: the target is a 99th percentile), and shrinks by a fifth after one that did not.
  So at the gateway's capacity the queue stays short enough for an accepted text to be answered within
  the target, and what is over it is told to come back.
  Requests that wait for their score (`?wait=`, the legacy routes) and batches are bounded by the hard
  cap and their own limits (submit.py), and their latency, which is the scorer's, does not move it.

Reads, health and the web page's GETs are not counted: they stay answerable under load. The 503 is
counted with every other answer (metrics.py), as route `unmatched`."""

import json
import time

from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["Admission", "LatencyLimit"]

_SUBMIT_PATHS = (
    *("/v1/texts", "/v1/batches", "/v1/documents", "/ui/documents"),
    *("/predict", "/predictions/predict", "/check"),
)
_QUICK_PATH = "/v1/texts"
WINDOW = 100  # answers (at least the limit) between two changes of the limit
SLOW_SHARE = 0.01  # of them, the share allowed past the target: the target is a 99th percentile


class LatencyLimit:
    """How many quick submissions may be in progress at once (see the module docstring)."""

    def __init__(self, target_s: float, ceiling: int, floor: int = 4) -> None:
        self.target_s = target_s
        self._floor = floor
        self._ceiling = ceiling
        self.limit = float(min(ceiling, max(floor, 32)))
        self._answered = 0
        self._slow = 0

    def observe(self, seconds: float) -> None:
        """Count one answer; at the end of each window, grow the limit by one, or shrink it by a fifth
        when more than `SLOW_SHARE` of the window's answers took longer than the target."""
        self._answered += 1
        self._slow += seconds > self.target_s
        if self._answered < max(self.limit, WINDOW):
            return
        if self._slow > SLOW_SHARE * self._answered:
            self.limit = max(self._floor, self.limit * 0.8)
        else:
            self.limit = min(self._ceiling, self.limit + 1)
        self._answered = self._slow = 0


class Admission:
    def __init__(self, app: ASGIApp, max_in_flight: int, quick: LatencyLimit, retry_after_s: int) -> None:
        self._app = app
        self._max = max_in_flight
        self._retry_after = str(retry_after_s).encode()
        self.quick = quick
        self.in_flight = 0
        self.quick_in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] not in _SUBMIT_PATHS:
            await self._app(scope, receive, send)
            return
        quick = scope["path"] == _QUICK_PATH and b"wait=" not in scope.get("query_string", b"")
        if self.in_flight >= self._max:
            await self._answer_503(send, f"the gateway has {self._max} submissions in progress")
            return
        if quick and self.quick_in_flight >= self.quick.limit:
            await self._answer_503(send, "the gateway is at its capacity")
            return
        self.in_flight += 1
        self.quick_in_flight += quick
        started = time.monotonic()
        try:
            await self._app(scope, receive, send)
        finally:
            self.in_flight -= 1
            self.quick_in_flight -= quick
            if quick:
                self.quick.observe(time.monotonic() - started)

    async def _answer_503(self, send: Send, why: str) -> None:
        body = json.dumps({"detail": f"{why}; nothing was written, send it again later"}).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"retry-after", self._retry_after),
        ]
        await send({"type": "http.response.start", "status": 503, "headers": headers})
        await send({"type": "http.response.body", "body": body})
