"""A client of the original system: sends one text as a prediction task to the RabbitMQ queue
`ml_tasks` and prints the answer, the way the original clients and chat bot did (RPC over AMQP:
an exclusive reply queue, a correlation id, wait for the reply that carries it).

It knows nothing of veritext; with `veritext bridge` running it gets the real score:

    python examples/legacy_client.py "The committee will review the proposal next week."
    python examples/legacy_client.py --body data "..."   # the second system's {"data": {"text": ...}}

It prints one JSON object: the correlation id the reply carried and the reply body. The exit
code is 1 when no reply comes within --timeout seconds, 2 when the reply is an error.
"""

import argparse
import asyncio
import json
import sys
import uuid

import aio_pika


async def ask(url: str, queue: str, text: str, body_shape: str, correlation_id: str, timeout_s: float) -> dict:
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel()
        await channel.declare_queue(queue, durable=True)  # tasks wait there until a worker (the bridge) runs
        replies = await channel.declare_queue(exclusive=True)
        payload = {"text": text} if body_shape == "text" else {"data": {"text": text}}
        await channel.default_exchange.publish(
            aio_pika.Message(
                json.dumps(payload).encode(),
                content_type="application/json",
                correlation_id=correlation_id,
                reply_to=replies.name,
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            ),
            routing_key=queue,
        )
        async with asyncio.timeout(timeout_s), replies.iterator() as incoming:
            async for message in incoming:
                await message.ack()
                if message.correlation_id == correlation_id:
                    return {"correlation_id": message.correlation_id, "reply": json.loads(message.body)}
    raise AssertionError("unreachable")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("text")
    parser.add_argument("--url", default="amqp://guest:guest@127.0.0.1:5672/")
    parser.add_argument("--queue", default="ml_tasks")
    parser.add_argument("--body", choices=["text", "data"], default="text", help="which original body shape")
    parser.add_argument("--correlation-id", default=None, help="default: a new uuid4")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for the reply")
    args = parser.parse_args()
    correlation_id = args.correlation_id or str(uuid.uuid4())
    try:
        answer = asyncio.run(ask(args.url, args.queue, args.text, args.body, correlation_id, args.timeout))
    except TimeoutError:
        print(f"no reply within {args.timeout:g} s (is `veritext bridge` running?)", file=sys.stderr)
        return 1
    except aio_pika.exceptions.AMQPConnectionError as exc:
        print(f"cannot reach RabbitMQ at {args.url}: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(answer, ensure_ascii=False))
    return 2 if "error" in answer["reply"] else 0


if __name__ == "__main__":
    sys.exit(main())
