"""RabbitMQ for the bridge tests: the local server (`VERITEXT_TEST_RABBITMQ_URL`, default
amqp://guest:guest@127.0.0.1:5672/), with a task queue, dead-letter queue, results exchange and
reply queues named per test and deleted afterwards. A missing RabbitMQ skips the tests, and
fails them under CI=true."""

import asyncio
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import aio_pika
import pytest
from pydantic import SecretStr

from ingest.bridge import BridgeSettings
from tests.bridge.helpers import declare_queue, delete
from tests.helpers import unavailable

_DEFAULT_URL = "amqp://guest:guest@127.0.0.1:5672/"


@pytest.fixture(scope="session")
def rabbitmq_url() -> str:
    url = os.environ.get("VERITEXT_TEST_RABBITMQ_URL", _DEFAULT_URL)

    async def ping() -> None:
        await (await aio_pika.connect(url, timeout=5)).close()

    try:
        asyncio.run(ping())
    except (OSError, TimeoutError, aio_pika.exceptions.AMQPError) as exc:
        unavailable(f"RabbitMQ at {url} ({exc})")
    return url


@dataclass(frozen=True)
class Rabbit:
    url: str
    bridge: BridgeSettings
    replies: str  # the RPC callers' reply queue
    results: str  # a subscriber's queue bound to the results exchange


@pytest.fixture
def rabbit(rabbitmq_url: str) -> Iterator[Rabbit]:
    name = f"t{uuid.uuid4().hex[:12]}"
    settings = BridgeSettings(
        url=SecretStr(rabbitmq_url),
        queue=f"{name}.ml_tasks",
        dead_letter_queue=f"{name}.dead-letter",
        results_exchange=f"{name}.ml_results",
        max_text_chars=1000,
        reconnect_min_s=0.2,
        reconnect_max_s=2.0,
    )
    rabbit = Rabbit(rabbitmq_url, settings, replies=f"{name}.replies", results=f"{name}.results")
    declare_queue(rabbitmq_url, rabbit.replies)
    declare_queue(rabbitmq_url, rabbit.results, bind_to=settings.results_exchange)
    yield rabbit
    delete(
        rabbitmq_url,
        [settings.queue, settings.dead_letter_queue, rabbit.replies, rabbit.results],
        [settings.results_exchange],
    )
