"""A fake Telegram Bot API server on loopback, for the bot's tests: getMe, deleteWebhook, getUpdates
(long polling), sendMessage, getFile and file downloads; what the test queues is what the bot receives,
and every message the bot sends is recorded."""

import asyncio
import itertools
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import FastAPI, Request, Response

from stream.embedded_broker import free_port

__all__ = ["FakeTelegram", "fake_telegram"]

BOT = {"id": 42, "is_bot": True, "first_name": "veritext", "username": "veritext_test_bot"}


@dataclass
class FakeTelegram:
    url: str = ""
    sent: list[dict[str, Any]] = field(default_factory=list)  # sendMessage parameters, in order
    _updates: list[dict[str, Any]] = field(default_factory=list)
    _files: dict[str, bytes] = field(default_factory=dict)
    downloads: int = 0  # files the bot fetched
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _message(self, chat_id: int, language: str, **content: Any) -> dict[str, Any]:
        user = {"id": chat_id, "is_bot": False, "first_name": "Tester", "language_code": language}
        return {
            "message_id": next(self._ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private"},
            "from": user,
            **content,
        }

    def send_text(self, chat_id: int, text: str, language: str = "en") -> None:
        entities = (
            [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}] if text.startswith("/") else []
        )
        self._queue(self._message(chat_id, language, text=text, **({"entities": entities} if entities else {})))

    def send_document(
        self, chat_id: int, name: str, content: bytes, language: str = "en", mime: str = "text/plain"
    ) -> None:
        file_id = f"file-{next(self._ids)}"
        self._files[file_id] = content
        document = {
            "file_id": file_id,
            "file_unique_id": file_id,
            "file_name": name,
            "mime_type": mime,
            "file_size": len(content),
        }
        self._queue(self._message(chat_id, language, document=document))

    def _queue(self, message: dict[str, Any]) -> None:
        with self._lock:
            self._updates.append({"update_id": next(self._ids), "message": message})

    def replies_to(self, chat_id: int) -> list[str]:
        return [m["text"] for m in self.sent if int(m["chat_id"]) == chat_id]

    def app(self) -> FastAPI:
        app = FastAPI()

        async def params(request: Request) -> dict[str, Any]:
            if request.headers.get("content-type", "").startswith("application/json"):
                return await request.json()
            return dict(await request.form())

        @app.post("/bot{token}/{method}")
        async def call(token: str, method: str, request: Request) -> dict[str, Any]:
            given = await params(request)
            if method == "getMe":
                return {"ok": True, "result": BOT}
            if method in ("deleteWebhook", "setMyCommands"):
                return {"ok": True, "result": True}
            if method == "getUpdates":
                offset, timeout = int(given.get("offset") or 0), float(given.get("timeout") or 0)
                deadline = time.monotonic() + min(timeout, 2.0)
                while True:
                    with self._lock:
                        self._updates = [u for u in self._updates if u["update_id"] >= offset]
                        ready = list(self._updates)
                    if ready or time.monotonic() >= deadline:
                        return {"ok": True, "result": ready}
                    await asyncio.sleep(0.05)
            if method == "sendMessage":
                with self._lock:
                    self.sent.append(given)
                chat = {"id": int(given["chat_id"]), "type": "private"}
                return {
                    "ok": True,
                    "result": {
                        "message_id": next(self._ids),
                        "date": int(time.time()),
                        "chat": chat,
                        "from": BOT,
                        "text": given["text"],
                    },
                }
            if method == "getFile":
                file_id = given["file_id"]
                return {
                    "ok": True,
                    "result": {
                        "file_id": file_id,
                        "file_unique_id": file_id,
                        "file_size": len(self._files[file_id]),
                        "file_path": f"documents/{file_id}",
                    },
                }
            return {"ok": False, "error_code": 404, "description": f"Not Found: method {method}"}

        @app.get("/file/bot{token}/documents/{file_id}")
        async def download(token: str, file_id: str) -> Response:
            self.downloads += 1
            return Response(self._files[file_id], media_type="application/octet-stream")

        return app


@contextmanager
def fake_telegram() -> Iterator[FakeTelegram]:
    fake = FakeTelegram()
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(fake.app(), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    fake.url = f"http://127.0.0.1:{port}"
    try:
        yield fake
    finally:
        server.should_exit = True
        thread.join(10)
