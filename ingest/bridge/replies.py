"""One RabbitMQ connection's side of the bridge: its channel, the declared topology, and the
outbox through which a task leaves the bridge, answered or dead-lettered, exactly once.

- Tasks arrive on the durable queue (`ml_tasks`) on one channel whose prefetch bounds the tasks
  in flight. That channel is in AMQP transaction mode (`tx.select`), and one writer coroutine
  sends every output on it: for each task its answer or dead letter, then its acknowledgement,
  and for a batch of ready tasks one `tx.commit`. RabbitMQ applies a transaction's publishes and
  acknowledgements together at the commit, so a crash or a lost connection before the commit
  publishes nothing and acknowledges nothing (the tasks are redelivered and answered later),
  and after it both happened. No task is answered twice and no answer is lost for it.
- Answers go to the task's `reply_to` queue with its `correlation_id` (the RPC pattern) and to
  the topic exchange (`ml_results`, routing key `score.<label>`) for any other subscriber. Their
  `message_id` is the submission id.
- A task that cannot be answered goes to the durable dead-letter queue, its body and properties
  kept, with the reason in the `x-veritext-reason` header; it is acknowledged in the same
  transaction, so it is never dropped and never requeued in a loop. Its `reply_to`, if any, gets
  an `ErrorReply` so an RPC caller is not left waiting.
"""

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime

from aio_pika import DeliveryMode, ExchangeType, Message
from aio_pika.abc import (
    AbstractChannel,
    AbstractConnection,
    AbstractExchange,
    AbstractIncomingMessage,
    AbstractQueue,
)
from aiormq.exceptions import AMQPError, ChannelInvalidStateError
from pydantic import BaseModel

from ingest.bridge.messages import ErrorReply
from ingest.bridge.settings import BridgeSettings

__all__ = ["LOST", "REASON_HEADER", "AmqpSession"]

log = logging.getLogger(__name__)

REASON_HEADER = "x-veritext-reason"
LOST = (AMQPError, ChannelInvalidStateError, ConnectionError)  # the connection or the channel went away
_MAX_BATCH = 200  # tasks per transaction


def _json(body: BaseModel, correlation_id: str | None, message_id: str | None) -> Message:
    return Message(
        body.model_dump_json().encode(),
        content_type="application/json",
        correlation_id=correlation_id,
        message_id=message_id,
        delivery_mode=DeliveryMode.PERSISTENT,
    )


@dataclass
class _Output:
    """What to publish for one task (exchange, message, routing key) before acknowledging it."""

    task: AbstractIncomingMessage
    publishes: list[tuple[AbstractExchange, Message, str]]
    done: asyncio.Future[None] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


@dataclass
class AmqpSession:
    connection: AbstractConnection
    channel: AbstractChannel
    tasks: AbstractQueue
    results: AbstractExchange
    settings: BridgeSettings
    _outbox: asyncio.Queue[_Output] = field(default_factory=asyncio.Queue)
    _writer: asyncio.Task[None] | None = None

    @classmethod
    async def open(cls, connection: AbstractConnection, settings: BridgeSettings) -> "AmqpSession":
        """Open the channel, declare the queues and the exchange (idempotent), start the writer."""
        channel = await connection.channel(publisher_confirms=False)
        await channel.set_qos(prefetch_count=settings.prefetch)
        tasks = await channel.declare_queue(settings.queue, durable=True)
        await channel.declare_queue(settings.dead_letter_queue, durable=True)
        results = await channel.declare_exchange(settings.results_exchange, ExchangeType.TOPIC, durable=True)
        await (await channel.get_underlay_channel()).tx_select()
        session = cls(connection, channel, tasks, results, settings)
        session._writer = asyncio.create_task(session._write())
        return session

    @property
    def broken(self) -> bool:
        return self.connection.is_closed or self.channel.is_closed or bool(self._writer and self._writer.done())

    async def answer(
        self, task: AbstractIncomingMessage, body: BaseModel, *, message_id: str, routing_key: str
    ) -> None:
        """Publish the answer to `reply_to` and the results exchange, and acknowledge the task."""
        publishes = [(self.results, _json(body, task.correlation_id, message_id), routing_key)]
        if task.reply_to:
            publishes.insert(
                0, (self.channel.default_exchange, _json(body, task.correlation_id, message_id), task.reply_to)
            )
        await self._send(_Output(task, publishes))

    async def dead_letter(self, task: AbstractIncomingMessage, reason: str, error: ErrorReply) -> None:
        """Move the task to the dead-letter queue with `reason`, tell its caller, and acknowledge it."""
        headers = {
            **(task.headers or {}),
            REASON_HEADER: reason[:1000],
            "x-veritext-queue": self.settings.queue,
            "x-veritext-failed-at": datetime.now(UTC).isoformat(),
        }
        dead = Message(
            task.body,
            headers=headers,
            content_type=task.content_type,
            correlation_id=task.correlation_id,
            message_id=task.message_id,
            reply_to=task.reply_to,
            delivery_mode=DeliveryMode.PERSISTENT,
        )
        publishes = [(self.channel.default_exchange, dead, self.settings.dead_letter_queue)]
        if task.reply_to:
            reply_id = str(error.submission_id) if error.submission_id else task.message_id
            publishes.append(
                (self.channel.default_exchange, _json(error, task.correlation_id, reply_id), task.reply_to)
            )
        await self._send(_Output(task, publishes))
        log.warning("dead-lettered task %s from %s: %s", task.message_id, self.settings.queue, reason)

    async def _send(self, output: _Output) -> None:
        if self.broken:
            raise ChannelInvalidStateError("the RabbitMQ session is closed")
        self._outbox.put_nowait(output)
        await output.done

    async def _write(self) -> None:
        """Send queued outputs in transactions of up to `_MAX_BATCH` tasks, until the channel fails."""
        underlay = await self.channel.get_underlay_channel()
        batch: list[_Output] = []
        try:
            while True:
                batch = [await self._outbox.get()]
                while len(batch) < _MAX_BATCH and not self._outbox.empty():
                    batch.append(self._outbox.get_nowait())
                for output in batch:
                    for exchange, message, routing_key in output.publishes:
                        await exchange.publish(message, routing_key, mandatory=False)
                    await output.task.ack()
                await underlay.tx_commit()
                for output in batch:
                    output.done.set_result(None)
                batch = []
        except LOST as exc:
            log.warning("RabbitMQ channel failed; %d uncommitted tasks will be redelivered: %s", len(batch), exc)
        finally:
            for output in [*batch, *self._drain()]:
                if not output.done.done():
                    output.done.set_exception(ChannelInvalidStateError("the RabbitMQ session closed"))

    def _drain(self) -> list[_Output]:
        drained = []
        while not self._outbox.empty():
            drained.append(self._outbox.get_nowait())
        return drained

    def close(self) -> None:
        """Stop the writer; outputs not yet committed fail, and RabbitMQ redelivers their tasks."""
        if self._writer is not None:
            self._writer.cancel()
