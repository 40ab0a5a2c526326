"""Admission control at the door: a bound on the submissions in progress at once. Past it a submission
is answered 503 with `Retry-After` at once, before its body is read, instead of queueing behind the
others until every client times out (and retries, adding more). Reads, health and the web page's GETs
are not counted: they stay answerable under load. The bound is per gateway process; several processes
each hold their own. The 503 is counted with every other answer (metrics.py), as route `unmatched`."""

import json

from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["Admission"]

_SUBMIT_PATHS = ("/v1/texts", "/v1/batches", "/predict", "/predictions/predict", "/check")


class Admission:
    def __init__(self, app: ASGIApp, max_in_flight: int, retry_after_s: int) -> None:
        self._app = app
        self._max = max_in_flight
        self._retry_after = str(retry_after_s).encode()
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] not in _SUBMIT_PATHS:
            await self._app(scope, receive, send)
            return
        if self.in_flight >= self._max:
            await self._answer_503(send)
            return
        self.in_flight += 1
        try:
            await self._app(scope, receive, send)
        finally:
            self.in_flight -= 1

    async def _answer_503(self, send: Send) -> None:
        reason = f"the gateway has {self._max} submissions in progress; nothing was written, send it again later"
        body = json.dumps({"detail": reason}).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"retry-after", self._retry_after),
        ]
        await send({"type": "http.response.start", "status": 503, "headers": headers})
        await send({"type": "http.response.body", "body": body})
