"""RabbitMQ bridge benchmark: round-trip throughput (task published on the queue -> answer on the
caller's reply queue) and latency at a fixed rate, with the fast model double, so what is
measured is the bridge and the log around it, not the model.

It starts its own embedded broker and, as `veritext` processes, a scorer with the double
(`tests.doubles:fixed`) and the bridge, on queues named for this run on the RabbitMQ at --url
(deleted at the end). The sink is not on the reply path and is not started. Results go to
bench/results/bridge.json and bench/results/bridge.md.

    python bench/bridge_bench.py [--tasks 5000] [--rate 200] [--seconds 20] [--words 60]
"""

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import aio_pika
from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

from ingest.bridge.settings import BridgeSettings
from schemas.events import ScoreEvent
from scorer.settings import ScorerSettings
from stream.admin import ensure_topics
from stream.embedded_broker import EmbeddedBroker
from stream.processes import start_child, stop_child
from stream.settings import KafkaSettings

ROOT = Path(__file__).resolve().parents[1]
WORDS = [
    "the",
    "of",
    "and",
    "to",
    "in",
    "is",
    "was",
    "for",
    "on",
    "that",
    "with",
    "as",
    "by",
    "at",
    "from",
    "this",
    "have",
    "not",
    "are",
    "but",
    "an",
    "they",
    "which",
    "one",
]


def make_text(i: int, words: int) -> str:
    """A synthetic text of `words` words, different for every `i`."""
    return f"task {i}: " + " ".join(WORDS[(i * 7 + k * 13) % len(WORDS)] for k in range(words))


class Caller:
    """An RPC caller as the original clients were: one reply queue, a correlation id per task."""

    def __init__(self, url: str, queue: str) -> None:
        self.url, self.queue = url, queue
        self.sent: dict[str, float] = {}
        self.answered: dict[str, float] = {}
        self.wall: dict[str, tuple[float, float]] = {}  # correlation id -> (sent, answered), epoch seconds
        self.submission_of: dict[str, str] = {}
        self.repeats = 0
        self._all_in = asyncio.Event()
        self._expected = 0

    async def __aenter__(self) -> "Caller":
        self.connection = await aio_pika.connect(self.url)
        self.channel = await self.connection.channel(publisher_confirms=False)
        await self.channel.declare_queue(self.queue, durable=True)
        self.replies = await self.channel.declare_queue(exclusive=True)
        await self.replies.consume(self._on_reply, no_ack=True)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.connection.close()

    async def _on_reply(self, message: aio_pika.abc.AbstractIncomingMessage) -> None:
        correlation_id = message.correlation_id or ""
        if correlation_id in self.answered:
            self.repeats += 1
        self.answered[correlation_id] = time.perf_counter()
        self.wall[correlation_id] = (self.wall.get(correlation_id, (0.0, 0.0))[0], time.time())
        self.submission_of[correlation_id] = json.loads(message.body)["submission_id"]
        if len(self.answered) >= self._expected:
            self._all_in.set()

    async def send(self, correlation_id: str, text: str, at: float | None = None) -> None:
        now = time.perf_counter()
        self.sent[correlation_id] = at if at is not None else now
        self.wall[correlation_id] = (time.time() - (now - self.sent[correlation_id]), 0.0)
        message = aio_pika.Message(json.dumps({"text": text}).encode(), correlation_id=correlation_id)
        message.reply_to = self.replies.name
        await self.channel.default_exchange.publish(message, self.queue)

    async def wait_for(self, n: int, timeout_s: float) -> None:
        self._expected = n
        if len(self.answered) < n:
            self._all_in.clear()
            await asyncio.wait_for(self._all_in.wait(), timeout_s)


async def warm_up(url: str, queue: str, timeout_s: float = 120) -> None:
    async with Caller(url, queue) as caller:
        await caller.send("warm-up", "warm up the pipeline")
        await caller.wait_for(1, timeout_s)


async def throughput(url: str, queue: str, n: int, words: int) -> dict[str, float]:
    async with Caller(url, queue) as caller:
        started = time.perf_counter()
        for i in range(n):
            await caller.send(f"t-{i}", make_text(i, words))
        published = time.perf_counter()
        await caller.wait_for(n, timeout_s=600)
        seconds = max(caller.answered.values()) - started
    return {
        "tasks": n,
        "tasks_per_s": n / seconds,
        "seconds": seconds,
        "publish_s": published - started,
        "repeated_answers": caller.repeats,
    }


def stage_times(kafka: KafkaSettings) -> dict[str, tuple[float, float]]:
    """submission id -> (submitted_at, scored_at) in epoch seconds, from every event on [scores]."""
    topic = kafka.topics.scores
    consumer = Consumer({"bootstrap.servers": kafka.bootstrap, "group.id": f"bench-{uuid.uuid4().hex}"})
    partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
    consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
    times: dict[str, tuple[float, float]] = {}
    idle_since = time.monotonic()
    while time.monotonic() - idle_since < 3:  # read until nothing more comes
        for record in consumer.consume(1000, 0.5):
            if record.error() is None:
                event = ScoreEvent.model_validate_json(record.value() or b"")
                times.setdefault(
                    str(event.submission_id), (event.submitted_at.timestamp(), event.scored_at.timestamp())
                )
                idle_since = time.monotonic()
    consumer.close()
    return times


def stages(caller: "Caller", times: dict[str, tuple[float, float]]) -> dict[str, float]:
    """Medians and p95 of where the time goes: queue -> bridge, bridge -> scored, scored -> answer received."""
    segments: dict[str, list[float]] = {"to_bridge": [], "bridge_to_scored": [], "scored_to_answer": []}
    for correlation_id, (sent, answered) in caller.wall.items():
        submitted, scored = times[caller.submission_of[correlation_id]]
        segments["to_bridge"].append((submitted - sent) * 1000)
        segments["bridge_to_scored"].append((scored - submitted) * 1000)
        segments["scored_to_answer"].append((answered - scored) * 1000)
    out = {}
    for name, values in segments.items():
        cuts = statistics.quantiles(values, n=100)
        out[f"{name}_p50_ms"], out[f"{name}_p95_ms"] = cuts[49], cuts[94]
    return out


async def fixed_rate(url: str, queue: str, rate: float, seconds: float, words: int) -> tuple[dict[str, Any], "Caller"]:
    total = int(rate * seconds)
    async with Caller(url, queue) as caller:
        start = time.perf_counter() + 0.5
        for i in range(total):
            due = start + i / rate
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            await caller.send(f"r-{i}", make_text(10**6 + i, words), at=due)  # open loop: from the scheduled time
        await caller.wait_for(total, timeout_s=300)
        latencies = [(caller.answered[c] - caller.sent[c]) * 1000 for c in caller.sent]
        achieved = total / (max(caller.answered.values()) - start)
    cuts = statistics.quantiles(latencies, n=100)
    return {
        "tasks": total,
        "rate_per_s": rate,
        "achieved_per_s": achieved,
        "p50_ms": cuts[49],
        "p95_ms": cuts[94],
        "p99_ms": cuts[98],
        "max_ms": max(latencies),
        "repeated_answers": caller.repeats,
    }, caller


async def delete_names(url: str, settings: BridgeSettings) -> None:
    async with await aio_pika.connect(url) as connection:
        channel = await connection.channel()
        for queue in (settings.queue, settings.dead_letter_queue):
            await channel.queue_delete(queue)
        await channel.exchange_delete(settings.results_exchange)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=os.environ.get("VERITEXT_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/"))
    parser.add_argument("--tasks", type=int, default=5000)
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--words", type=int, default=60)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args()

    name = f"bench{uuid.uuid4().hex[:8]}"
    bridge = BridgeSettings(
        queue=f"{name}.ml_tasks", dead_letter_queue=f"{name}.dead-letter", results_exchange=f"{name}.ml_results"
    )
    scorer = ScorerSettings()
    with EmbeddedBroker() as broker:
        ensure_topics(KafkaSettings(bootstrap=broker.bootstrap))
        env = {
            **os.environ,
            "VERITEXT_KAFKA_BOOTSTRAP": broker.bootstrap,
            "VERITEXT_SCORER_DETECTOR": "tests.doubles:fixed",
            "VERITEXT_RABBITMQ_URL": args.url,
            "VERITEXT_RABBITMQ_QUEUE": bridge.queue,
            "VERITEXT_RABBITMQ_DEAD_LETTER_QUEUE": bridge.dead_letter_queue,
            "VERITEXT_RABBITMQ_RESULTS_EXCHANGE": bridge.results_exchange,
        }
        components = [start_child([sys.executable, "-m", "veritext", c], env=env) for c in ("scorer", "bridge")]
        try:
            asyncio.run(warm_up(args.url, bridge.queue))
            burst = asyncio.run(throughput(args.url, bridge.queue, args.tasks, args.words))
            print(json.dumps(burst), flush=True)
            steady, caller = asyncio.run(fixed_rate(args.url, bridge.queue, args.rate, args.seconds, args.words))
            steady["stages"] = stages(caller, stage_times(KafkaSettings(bootstrap=broker.bootstrap)))
            print(json.dumps(steady), flush=True)
        finally:
            for process in components:
                stop_child(process)
            asyncio.run(delete_names(args.url, bridge))

    results = {
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "detector": "tests.doubles:fixed (model double)",
        "words_per_text": args.words,
        "scorer_batch": scorer.max_batch,
        "scorer_max_wait_ms": scorer.max_wait_ms,
        "prefetch": bridge.prefetch,
        "throughput": burst,
        "fixed_rate": steady,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bridge.json").write_text(json.dumps(results, indent=2) + "\n")
    (args.out / "bridge.md").write_text(markdown(results))
    print(markdown(results))


def markdown(r: dict) -> str:
    burst, steady = r["throughput"], r["fixed_rate"]
    st = steady["stages"]
    rows = [
        (
            f"round-trip throughput, {burst['tasks']} tasks published at once",
            f"{burst['tasks_per_s']:.0f} tasks/s ({burst['seconds']:.1f} s)",
        ),
        (
            f"round-trip latency at {steady['rate_per_s']:.0f} tasks/s for {steady['tasks']} tasks",
            f"p50 {steady['p50_ms']:.1f} ms, p95 {steady['p95_ms']:.1f} ms, p99 {steady['p99_ms']:.1f} ms",
        ),
        ("rate achieved at the fixed rate", f"{steady['achieved_per_s']:.0f} tasks/s"),
        *(
            (f"… of which {label}", f"p50 {st[key + '_p50_ms']:.1f} ms, p95 {st[key + '_p95_ms']:.1f} ms")
            for key, label in (
                ("to_bridge", "task published → bridge took it"),
                ("bridge_to_scored", "submission → scorer produced the score"),
                ("scored_to_answer", "score → answer received by the caller"),
            )
        ),
        ("tasks answered more than once", f"{burst['repeated_answers'] + steady['repeated_answers']}"),
    ]
    head = (
        f"# RabbitMQ bridge benchmark\n\n{r['machine']['cpus']} cores; {r['detector']}; texts of "
        f"{r['words_per_text']} words; scorer batch {r['scorer_batch']} (wait {r['scorer_max_wait_ms']} ms); "
        f"bridge prefetch {r['prefetch']}. Round trip: task on the queue → bridge → [submissions] → scorer → "
        "[scores] → bridge → answer on the caller's reply queue.\n\n"
    )
    return head + "| measure | result |\n|---|---|\n" + "".join(f"| {a} | {b} |\n" for a, b in rows)


if __name__ == "__main__":
    main()
