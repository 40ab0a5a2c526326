"""One RabbitMQ connection's side of the bridge: its channels, the declared topology, and the
three ways a task leaves the bridge (answered, dead-lettered, or left to be redelivered).

- Tasks arrive on the durable queue (`ml_tasks`) on a channel whose prefetch bounds the tasks in
  flight. Answers are published on that same channel, then the task is acknowledged on it:
  RabbitMQ handles one channel's frames in order, so the acknowledgement is never processed
  before the answer was routed, and no publisher-confirm round trip sits between the two (a
  crash inside such a round trip would leave an answered task unacknowledged and answer it
  twice after redelivery).
- Answers go to the task's `reply_to` queue with its `correlation_id` (the RPC pattern) and to
  the topic exchange (`ml_results`, routing key `score.<label>`) for any other subscriber. Their
  `message_id` is the submission id, so a subscriber can drop a repeat.
- A task that cannot be answered goes to the durable dead-letter queue with the reason in the
  `x-veritext-reason` header, on a channel with publisher confirms: it is acknowledged only once
  RabbitMQ has taken the dead letter, so it is never dropped and never requeued in a loop. Its
  `reply_to`, if any, also gets an `ErrorReply` so an RPC caller is not left waiting.
"""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from aio_pika import DeliveryMode, ExchangeType, Message
from aio_pika.abc import (
    AbstractChannel,
    AbstractConnection,
    AbstractExchange,
    AbstractIncomingMessage,
    AbstractQueue,
)
from pydantic import BaseModel

from ingest.bridge.messages import ErrorReply
from ingest.bridge.settings import BridgeSettings

__all__ = ["AmqpSession"]

log = logging.getLogger(__name__)

REASON_HEADER = "x-veritext-reason"


def _json(body: BaseModel, correlation_id: str | None, message_id: str | None) -> Message:
    return Message(
        body.model_dump_json().encode(),
        content_type="application/json",
        correlation_id=correlation_id,
        message_id=message_id,
        delivery_mode=DeliveryMode.PERSISTENT,
    )


@dataclass
class AmqpSession:
    connection: AbstractConnection
    channel: AbstractChannel
    confirmed: AbstractChannel
    tasks: AbstractQueue
    results: AbstractExchange
    settings: BridgeSettings

    @classmethod
    async def open(cls, connection: AbstractConnection, settings: BridgeSettings) -> "AmqpSession":
        """Open the channels and declare the queues and the exchange (idempotent)."""
        channel = await connection.channel(publisher_confirms=False)
        await channel.set_qos(prefetch_count=settings.prefetch)
        confirmed = await connection.channel(publisher_confirms=True)
        tasks = await channel.declare_queue(settings.queue, durable=True)
        await confirmed.declare_queue(settings.dead_letter_queue, durable=True)
        results = await channel.declare_exchange(settings.results_exchange, ExchangeType.TOPIC, durable=True)
        return cls(connection, channel, confirmed, tasks, results, settings)

    @property
    def broken(self) -> bool:
        return self.connection.is_closed or self.channel.is_closed or self.confirmed.is_closed

    async def answer(
        self, message: AbstractIncomingMessage, body: BaseModel, *, message_id: str, routing_key: str
    ) -> None:
        """Publish the answer to `reply_to` and the results exchange, then acknowledge the task."""
        if message.reply_to:
            reply = _json(body, message.correlation_id, message_id)
            await self.channel.default_exchange.publish(reply, message.reply_to, mandatory=False)
        await self.results.publish(_json(body, message.correlation_id, message_id), routing_key, mandatory=False)
        await message.ack()

    async def dead_letter(self, message: AbstractIncomingMessage, reason: str, error: ErrorReply) -> None:
        """Move the task to the dead-letter queue with `reason`, tell its caller, then acknowledge it."""
        headers = {
            **(message.headers or {}),
            REASON_HEADER: reason[:1000],
            "x-veritext-queue": self.settings.queue,
            "x-veritext-failed-at": datetime.now(UTC).isoformat(),
        }
        dead = Message(
            message.body,
            headers=headers,
            content_type=message.content_type,
            correlation_id=message.correlation_id,
            message_id=message.message_id,
            reply_to=message.reply_to,
            delivery_mode=DeliveryMode.PERSISTENT,
        )
        await self.confirmed.default_exchange.publish(dead, self.settings.dead_letter_queue)
        if message.reply_to:
            reply_id = str(error.submission_id) if error.submission_id else message.message_id
            reply = _json(error, message.correlation_id, reply_id)
            await self.channel.default_exchange.publish(reply, message.reply_to, mandatory=False)
        await message.ack()
        log.warning("dead-lettered task %s from %s: %s", message.message_id, self.settings.queue, reason)
