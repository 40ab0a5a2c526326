"""Request bodies are bounded before anything parses them: an ASGI middleware answers 413 at once
when `Content-Length` is past the route's limit, and counts the bytes of a body sent without one
(chunked), raising `BodyTooLarge` (an HTTPException: FastAPI answers it as the 413 it is) in the reader
the moment the limit is passed. `POST /v1/batches` gets its own, larger limit; every other route the
size of the longest text's JSON."""

import json
from collections.abc import Callable

from fastapi import HTTPException, status
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["BodyLimit", "BodyTooLarge"]


class BodyTooLarge(HTTPException):
    """The body passed its limit while it was being read."""

    def __init__(self, limit: int) -> None:
        super().__init__(status.HTTP_413_CONTENT_TOO_LARGE, f"the body is larger than the limit of {limit} bytes")


class BodyLimit:
    def __init__(self, app: ASGIApp, limit_for: Callable[[str], int]) -> None:
        self._app = app
        self._limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        limit = self._limit_for(scope["path"])
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _answer_413(send, f"the body has {int(declared)} bytes; the limit is {limit}")
            return
        seen = 0

        async def counting() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit)
            return message

        await self._app(scope, counting, send)


async def _answer_413(send: Send, reason: str) -> None:
    body = json.dumps({"detail": reason}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})
