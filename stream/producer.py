"""Durable producers: idempotent, `acks=all`. A write counts only once the broker acknowledged it.

`EventProducer` is for worker loops (send many, then `flush` raises if any failed) and for bulk
ingestion: with `bulk_config(max_in_flight)` it batches harder, and its local queue holds at most
`max_in_flight` events, so `send` blocks while the broker is slow instead of growing memory; a
per-event `on_delivery` callback then reports each acknowledgement (served by `poll`).
`AsyncEventProducer` is for the gateway: `await send(...)` returns once that event is durable,
without blocking the event loop (a background thread serves librdkafka's delivery callbacks).

A `timestamp` sets the record's timestamp (CreateTime); submissions use their `submitted_at`, so
a replay's offsets-for-times lookup and the window it filters on agree to the millisecond.

**Producers heal.** An idempotent producer whose broker stalled past a message timeout can be fenced
for good (every later event refused at once with "a newer producer ... fences the current one"); a
fatal error does the same, and a message that timed out leaves the sequence out of step. So a delivery
error that librdkafka calls fatal or that names the producer's identity (`_NEEDS_NEW_PRODUCER`), or
`FAILURES_BEFORE_REBUILD` failures in a row, or a client that refuses an event outright (a fatal
state reported outside any delivery: `DeliveryError` to the sender), replace the client by a new one (a
new producer id): the gateway's at once, from its callback thread; a worker's before its next send. `healthy` is what
readiness reports.
"""

import asyncio
import logging
import threading
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Message, Producer
from pydantic import BaseModel

from schemas.errors import DeliveryError
from schemas.events import wire
from stream.settings import KafkaSettings

__all__ = ["AsyncEventProducer", "DeliveryCallback", "EventProducer", "Headers", "bulk_config"]

log = logging.getLogger(__name__)

Headers = Mapping[str, str]
DeliveryCallback = Callable[[str | None], None]  # called with None once acknowledged, else the reason

_DURABLE_DEFAULTS: dict[str, Any] = {
    "linger.ms": 5,
    "compression.type": "lz4",
    "message.timeout.ms": 30_000,
}
_DURABILITY = {"enable.idempotence": True, "acks": "all"}  # not overridable
FAILURES_BEFORE_REBUILD = 3
_NEEDS_NEW_PRODUCER = {
    KafkaError.PRODUCER_FENCED,
    KafkaError.INVALID_PRODUCER_EPOCH,
    KafkaError.UNKNOWN_PRODUCER_ID,
    KafkaError.OUT_OF_ORDER_SEQUENCE_NUMBER,
    KafkaError._FENCED,
    KafkaError._FATAL,
    KafkaError._MSG_TIMED_OUT,  # the broker may hold it: the producer's sequence no longer matches
}


class _Health:
    """Counts delivery outcomes (from librdkafka's callback thread) and says when a new client is due."""

    def __init__(self) -> None:
        self.failures_in_row = 0
        self.broken: str | None = None  # the error that calls for a new client

    def delivered(self, err: KafkaError | None) -> None:
        if err is None:
            self.failures_in_row = 0
            return
        self.failures_in_row += 1
        if err.fatal() or err.code() in _NEEDS_NEW_PRODUCER:
            self.broken = err.str()
        elif self.failures_in_row >= FAILURES_BEFORE_REBUILD:
            self.broken = f"{self.failures_in_row} deliveries failed in a row, the last: {err.str()}"

    def refused(self, exc: KafkaException) -> DeliveryError:
        """The client refused an event outright (it is in a fatal state): a new client is due; the
        error to raise to the sender."""
        reason = exc.args[0].str() if exc.args and isinstance(exc.args[0], KafkaError) else str(exc)
        self.broken = reason
        return DeliveryError(f"the producer refused the event: {reason}")

    @property
    def healthy(self) -> bool:
        return self.broken is None

    def renewed(self) -> str | None:
        """The reason a new client is due (and the count starts again), or None."""
        reason, self.broken = self.broken, None
        if reason is not None:
            self.failures_in_row = 0
        return reason


def _retire(client: Producer, reason: str) -> None:
    """Fail what the old client still holds (its callbacks report it), then let it go."""
    log.warning("the Kafka producer is replaced by a new one: %s", reason)
    client.purge()
    client.poll(0)


def bulk_config(max_in_flight: int) -> dict[str, Any]:
    """Producer settings for bulk writes: bigger, longer-lingering batches, and a local queue of at
    most `max_in_flight` events (or 64 MiB), which is what bounds the memory of a bulk run."""
    return {
        "linger.ms": 50,
        "batch.size": 1_000_000,
        "queue.buffering.max.messages": max_in_flight,
        "queue.buffering.max.kbytes": 65_536,
    }


def _config(settings: KafkaSettings, extra: Mapping[str, Any] | None) -> dict[str, Any]:
    return {
        **_DURABLE_DEFAULTS,
        **(extra or {}),
        **_DURABILITY,
        **settings.client_config(),
        "logger": log,  # librdkafka's own messages go through logging (JSON lines), not raw to stderr
    }


def _encode_headers(headers: Headers | None) -> list[tuple[str, str | bytes | None]] | None:
    return [(k, v.encode()) for k, v in headers.items()] if headers else None


def _millis(timestamp: datetime | None) -> int:
    return int(timestamp.timestamp() * 1000) if timestamp is not None else 0  # 0: the producer's clock


def _produce(
    client: Producer,
    topic: str,
    key: str,
    value: bytes,
    headers: Headers | None,
    timestamp: datetime | None,
    on_delivery: Callable[[KafkaError | None, Message], None],
) -> None:
    """Queue one event on the client; raises BufferError while its local queue is full."""
    client.produce(
        topic,
        key=key.encode(),
        value=value,
        headers=_encode_headers(headers),
        timestamp=_millis(timestamp),
        on_delivery=on_delivery,
    )


class EventProducer:
    """Synchronous producer for worker loops: `send` buffers, `flush` makes everything durable."""

    def __init__(self, settings: KafkaSettings, extra: Mapping[str, Any] | None = None) -> None:
        self._config = _config(settings, extra)
        self._client: Producer | None = None  # created on first send
        self._failures: list[str] = []
        self._health = _Health()

    @property
    def _producer(self) -> Producer:
        reason = self._health.renewed()
        if self._client is not None and reason is not None:
            _retire(self._client, reason)
            self._client = None
        if self._client is None:
            self._client = Producer(self._config)
        return self._client

    @property
    def healthy(self) -> bool:
        return self._health.healthy

    def _on_delivery(self, err: KafkaError | None, msg: Message) -> None:
        self._health.delivered(err)
        if err is not None:
            self._failures.append(f"{msg.topic()}: {err.str()}")

    def send(
        self,
        topic: str,
        key: str,
        event: BaseModel | bytes,
        headers: Headers | None = None,
        *,
        timestamp: datetime | None = None,
        on_delivery: DeliveryCallback | None = None,
    ) -> None:
        """Queue `event` (or its `wire` form, for a caller that has it already); blocks while the local
        queue is full. A failure is reported to `on_delivery` when given (the caller owns it), else
        raised by the next `flush`."""
        callback = self._on_delivery if on_delivery is None else self._reporting(on_delivery)
        value = event if isinstance(event, bytes) else wire(event)
        while True:
            try:
                _produce(self._producer, topic, key, value, headers, timestamp, callback)
                return
            except BufferError:  # local queue full: serve callbacks, then retry
                self._producer.poll(0.1)
            except KafkaException as exc:
                raise self._health.refused(exc) from exc

    def _reporting(self, report: DeliveryCallback) -> Callable[[KafkaError | None, Message], None]:
        def delivered(err: KafkaError | None, _msg: Message) -> None:
            self._health.delivered(err)
            report(None if err is None else err.str())

        return delivered

    def poll(self, timeout_s: float = 0.0) -> None:
        """Serve delivery callbacks that are due."""
        if self._client is not None:
            self._client.poll(timeout_s)

    def flush(self, timeout_s: float = 30.0) -> None:
        """Wait until every buffered event is acknowledged; raise `DeliveryError` otherwise."""
        if self._client is None:
            return
        remaining = self._client.flush(timeout_s)
        failures, self._failures = self._failures, []
        if remaining or failures:
            raise DeliveryError(
                f"{remaining} events unacknowledged after {timeout_s}s, {len(failures)} refused"
                + (f": {failures[0]}" if failures else "")
            )

    def close(self) -> None:
        if self._client is not None:
            self._client.flush(10)
            self._client = None

    def __enter__(self) -> "EventProducer":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class AsyncEventProducer:
    """Producer for asyncio code: each `send` resolves when its event is durable in the topic."""

    def __init__(
        self, settings: KafkaSettings, extra: Mapping[str, Any] | None = None, timeout_s: float = 10.0
    ) -> None:
        self._config = _config(settings, {"message.timeout.ms": int(timeout_s * 1000), **(extra or {})})
        self._timeout_s = timeout_s
        self._client: Producer | None = None
        self._stop = threading.Event()
        self._poller: threading.Thread | None = None
        self._health = _Health()

    @property
    def healthy(self) -> bool:
        return self._health.healthy

    def start(self) -> None:
        self._client = Producer(self._config)
        self._poller = threading.Thread(target=self._serve_callbacks, name="producer-poll", daemon=True)
        self._poller.start()

    def _serve_callbacks(self) -> None:
        """Serve delivery callbacks; replace the client as soon as it is broken (not at the next send:
        a gateway that readiness takes out of service would never send again)."""
        while not self._stop.is_set() and self._client is not None:
            reason = self._health.renewed()
            if reason is not None:
                old, self._client = self._client, Producer(self._config)
                _retire(old, reason)
            self._client.poll(0.05)

    async def send(
        self,
        topic: str,
        key: str,
        event: BaseModel,
        headers: Headers | None = None,
        *,
        timestamp: datetime | None = None,
    ) -> None:
        if self._client is None:
            raise DeliveryError("producer is not started")
        loop = asyncio.get_running_loop()
        delivered: asyncio.Future[None] = loop.create_future()

        def on_delivery(err: KafkaError | None, _msg: Message) -> None:
            self._health.delivered(err)
            loop.call_soon_threadsafe(_resolve, delivered, err)

        try:
            _produce(self._client, topic, key, wire(event), headers, timestamp, on_delivery)
        except BufferError as exc:
            raise DeliveryError("the producer queue is full; the broker is not keeping up") from exc
        except KafkaException as exc:  # replaced by the callback thread; this event is not sent
            raise self._health.refused(exc) from exc
        await asyncio.wait_for(delivered, self._timeout_s + 5)

    def close(self) -> None:
        self._stop.set()
        if self._poller is not None:
            self._poller.join()
        if self._client is not None:
            self._client.flush(10)
            self._client = None


def _resolve(future: asyncio.Future[None], err: KafkaError | None) -> None:
    if future.done():
        return
    if err is None:
        future.set_result(None)
    else:
        future.set_exception(DeliveryError(f"broker refused the event: {err.str()}"))
