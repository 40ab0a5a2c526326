"""The benchmarks' HTTP/1.1 client for load: requests written by hand on keep-alive connections over raw
asyncio streams. httpx tops out near 150 requests/s on the 2-core machine, so a load driven through it
measures the client (its pool's queue), not the gateway; this one sends thousands per second."""

import asyncio
import json
import re

__all__ = ["post", "post_json"]

_LENGTH = re.compile(rb"(?i)content-length: *(\d+)")


def post_json(port: int, path: str, body: object, headers: dict[str, str] | None = None) -> bytes:
    """The bytes of one `POST path` with `body` as JSON, for a connection to 127.0.0.1:`port`."""
    payload = json.dumps(body).encode()
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
    return (head + f"Content-Length: {len(payload)}\r\n\r\n").encode() + payload


async def post(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> tuple[int, bytes]:
    """Send `request` on a keep-alive connection and read its answer: (status, body)."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    length = _LENGTH.search(head)
    body = await reader.readexactly(int(length.group(1)) if length else 0)
    return int(head[9:12]), body
