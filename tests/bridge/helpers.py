"""Helpers for the bridge tests: a RabbitMQ client on real connections (send tasks as the original
clients do, collect what comes back on a queue, clean up; each call runs its own short asyncio
loop), and a scorer plus a sink in threads as the bridge's counterparts."""

import asyncio
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field

import aio_pika
from sqlalchemy import Engine

from scorer.detectors.base import Detector
from scorer.worker import ScoringWorker
from sink.worker import SinkWorker
from stream.settings import KafkaSettings
from tests.helpers import running

__all__ = ["Received", "Task", "collect", "declare_queue", "delete", "drain", "queue_depth", "scoring", "send"]


@dataclass(frozen=True)
class Task:
    body: bytes
    correlation_id: str | None = None
    reply_to: str | None = None
    message_id: str | None = None


@dataclass(frozen=True)
class Received:
    body: bytes
    correlation_id: str | None
    message_id: str | None
    routing_key: str | None
    headers: dict = field(default_factory=dict)


def send(url: str, queue: str, tasks: Sequence[Task]) -> None:
    """Publish `tasks` to `queue` (durable, declared if missing) with publisher confirms."""

    async def go() -> None:
        async with await aio_pika.connect(url) as connection:
            channel = await connection.channel()
            await channel.declare_queue(queue, durable=True)
            await asyncio.gather(
                *(
                    channel.default_exchange.publish(
                        aio_pika.Message(
                            t.body,
                            correlation_id=t.correlation_id,
                            reply_to=t.reply_to,
                            message_id=t.message_id,
                            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                        ),
                        routing_key=queue,
                    )
                    for t in tasks
                )
            )

    asyncio.run(go())


def declare_queue(url: str, queue: str, bind_to: str | None = None) -> None:
    """A durable queue for replies; with `bind_to`, bound to that topic exchange with `#`."""

    async def go() -> None:
        async with await aio_pika.connect(url) as connection:
            channel = await connection.channel()
            declared = await channel.declare_queue(queue, durable=True)
            if bind_to:
                exchange = await channel.declare_exchange(bind_to, aio_pika.ExchangeType.TOPIC, durable=True)
                await declared.bind(exchange, "#")

    asyncio.run(go())


def collect(url: str, queue: str, n: int, timeout_s: float, idle_s: float | None = None) -> list[Received]:
    """Take messages from `queue` (acknowledging them) until `n` arrived, `timeout_s` passed, or
    (with `idle_s`) nothing came for `idle_s` seconds."""

    async def go() -> list[Received]:
        got: list[Received] = []
        async with await aio_pika.connect(url) as connection:
            channel = await connection.channel()
            source = await channel.declare_queue(queue, durable=True)
            deadline = time.monotonic() + timeout_s
            last = time.monotonic()
            while len(got) < n and time.monotonic() < deadline:
                message = await source.get(no_ack=True, fail=False)
                if message is None:
                    if idle_s is not None and time.monotonic() - last > idle_s:
                        break
                    await asyncio.sleep(0.02)
                    continue
                last = time.monotonic()
                got.append(
                    Received(
                        message.body,
                        message.correlation_id,
                        message.message_id,
                        message.routing_key,
                        dict(message.headers or {}),
                    )
                )
        return got

    return asyncio.run(go())


def drain(url: str, queue: str) -> list[Received]:
    """Everything in `queue` right now."""
    return collect(url, queue, n=10**9, timeout_s=60, idle_s=0.5)


def queue_depth(url: str, queue: str) -> int:
    async def go() -> int:
        async with await aio_pika.connect(url) as connection:
            channel = await connection.channel()
            declared = await channel.declare_queue(queue, passive=True)
            return declared.declaration_result.message_count or 0

    return asyncio.run(go())


def delete(url: str, queues: Sequence[str], exchanges: Sequence[str]) -> None:
    async def go() -> None:
        async with await aio_pika.connect(url) as connection:
            channel = await connection.channel()
            for queue in queues:
                await channel.queue_delete(queue)
            for exchange in exchanges:
                await channel.exchange_delete(exchange)

    asyncio.run(go())


@contextmanager
def scoring(kafka: KafkaSettings, engine: Engine, detector: Detector, max_batch: int = 16) -> Iterator[None]:
    """A scorer and a sink on the test's topics, in threads, for the duration of the block."""
    with ExitStack() as stack:
        stack.enter_context(running(SinkWorker(kafka, engine, group_id=f"{kafka.topic_prefix}-sink")))
        worker = ScoringWorker(kafka, detector, group_id=f"{kafka.topic_prefix}-scorer", max_batch=max_batch)
        stack.enter_context(running(worker))
        yield
