"""What durability on a volatile broker costs: recording each submission in PostgreSQL before the
acknowledgement (ingest/recorder.py, what `veritext up` does with its in-memory broker) against the
topic alone, measured in one run on the same embedded broker and the local PostgreSQL, in alternating
rounds so the machine's noise falls on both:

- submit latency: sequential `POST /v1/texts` through the gateway app (httpx over ASGI, no network);
- bulk ingest rate: `veritext ingest` of a JSONL file of short texts, events acknowledged per second.

Writes bench/results/durability.json and durability.md.

    python bench/durability_bench.py [--requests 200] [--lines 200000] [--rounds 2]
"""

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from scratch import scratch_database

from ingest.gateway import GatewaySettings, create_app
from store.batches import SqlBatchStore
from store.db import make_engine
from store.queries import SqlSubmissionStore
from store.recorder import SqlSubmissionRecorder
from stream.admin import ensure_topics
from stream.embedded_broker import EmbeddedBroker
from stream.settings import KafkaSettings

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"


async def _latencies(app, n: int) -> list[float]:
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url="http://x") as client:
        times = []
        for i in range(n):
            started = time.perf_counter()
            answer = await client.post("/v1/texts", json={"text": f"Durability benchmark text number {i}."})
            times.append(time.perf_counter() - started)
            assert answer.status_code == 202, answer.text
        return times


def _ingest_rate(kafka: KafkaSettings, database_url: str, path: Path, lines: int, volatile: bool) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VERITEXT_")} | {
        "VERITEXT_KAFKA_BOOTSTRAP": kafka.bootstrap,
        "VERITEXT_KAFKA_TOPIC_PREFIX": kafka.topic_prefix,
        "VERITEXT_DATABASE_URL": database_url,
        "VERITEXT_KAFKA_VOLATILE": str(volatile).lower(),
        "VERITEXT_BULK_MAX_BACKLOG": "0",
    }
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "veritext", "ingest", str(path)], cwd=ROOT, env=env, check=True, capture_output=True
    )
    return lines / (time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    latency: dict[str, list[float]] = {"topic only": [], "recorded first": []}
    rate: dict[str, list[float]] = {"topic only": [], "recorded first": []}
    with (
        scratch_database("veritext_durability") as database_url,
        EmbeddedBroker() as broker,
        tempfile.TemporaryDirectory() as tmp,
    ):
        engine = make_engine(database_url)
        kafka = KafkaSettings(bootstrap=broker.bootstrap, topic_prefix=f"bench-{uuid.uuid4().hex[:6]}")
        ensure_topics(kafka)
        path = Path(tmp) / "texts.jsonl"
        path.write_text("".join(json.dumps({"text": f"Bulk durability text {i}."}) + "\n" for i in range(args.lines)))
        for _ in range(args.rounds):
            for mode, recorder in (("topic only", None), ("recorded first", SqlSubmissionRecorder(engine))):
                app = create_app(
                    GatewaySettings(), kafka, SqlSubmissionStore(engine), SqlBatchStore(engine), recorder=recorder
                )
                latency[mode] += asyncio.run(_latencies(app, args.requests))
                rate[mode].append(_ingest_rate(kafka, database_url, path, args.lines, recorder is not None))
        engine.dispose()

    def summary(mode: str) -> dict[str, float]:
        ms = sorted(t * 1000 for t in latency[mode])
        return {
            "submit_p50_ms": round(statistics.median(ms), 2),
            "submit_p95_ms": round(ms[int(len(ms) * 0.95)], 2),
            "ingest_events_per_s": round(statistics.median(rate[mode])),
        }

    result = {mode: summary(mode) for mode in latency} | {
        "requests_per_mode": len(latency["topic only"]),
        "lines_per_ingest": args.lines,
        "rounds": args.rounds,
        "machine": f"{os.cpu_count()} CPUs",
    }
    base, durable = result["topic only"], result["recorded first"]
    result["ratios"] = {
        "submit_p50": round(durable["submit_p50_ms"] / base["submit_p50_ms"], 2),
        "ingest_rate": round(durable["ingest_events_per_s"] / base["ingest_events_per_s"], 2),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "durability.json").write_text(json.dumps(result, indent=2) + "\n")
    lines = [
        "# Durability on a volatile broker (bench/durability_bench.py)",
        "",
        f"{args.rounds} alternating rounds on {result['machine']}: {result['requests_per_mode']} sequential submits"
        f" and {args.rounds} ingests of {args.lines} lines per mode; embedded broker, local PostgreSQL.",
        "",
        "| mode | submit p50 ms | submit p95 ms | ingest events/s |",
        "|---|---|---|---|",
        *(
            f"| {mode} | {result[mode]['submit_p50_ms']} | {result[mode]['submit_p95_ms']} | "
            f"{result[mode]['ingest_events_per_s']} |"
            for mode in latency
        ),
        "",
        f"Recorded first / topic only: submit p50 x{result['ratios']['submit_p50']}, "
        f"ingest rate x{result['ratios']['ingest_rate']}.",
    ]
    (RESULTS / "durability.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
