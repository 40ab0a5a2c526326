"""What access control costs a submission: `POST /v1/texts` through the gateway app with no auth,
with an API key whose counters are in memory, and with one whose counters are in Redis (the shared
store several gateways use). Measured in one run, in alternating rounds, on the embedded broker and
the local PostgreSQL and Redis; the key has a rate limit and a quota far above the load, so every
request is checked and counted, none refused.

Writes bench/results/auth.json and auth.md.

    python bench/auth_bench.py [--requests 300] [--rounds 3]
"""

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

import httpx
from scratch import scratch_database

from ingest.gateway import GatewaySettings, create_app
from ingest.gateway.auth import Access, Authenticator
from ingest.gateway.ratelimit import KeyLimiter
from store.batches import SqlBatchStore
from store.db import make_engine
from store.keys import SqlKeyStore
from store.queries import SqlSubmissionStore
from store.sessions import SqlSessionStore
from stream.admin import ensure_topics
from stream.embedded_broker import EmbeddedBroker
from stream.settings import KafkaSettings

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
REDIS = "redis://127.0.0.1:6379/15"
MODES = ("no auth", "api key, memory counters", "api key, Redis counters")


async def _latencies(app, n: int, key: str | None) -> list[float]:
    transport = httpx.ASGITransport(app=app)
    headers = {"X-API-Key": key} if key else {}
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://x", headers=headers) as client,
    ):
        times = []
        for i in range(n):
            started = time.perf_counter()
            answer = await client.post("/v1/texts", json={"text": f"Access benchmark text number {i}."})
            times.append(time.perf_counter() - started)
            assert answer.status_code == 202, answer.text
        return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    latency: dict[str, list[float]] = {mode: [] for mode in MODES}
    with scratch_database("veritext_auth") as database_url, EmbeddedBroker() as broker:
        engine = make_engine(database_url)
        keys = SqlKeyStore(engine)
        kafka = KafkaSettings(bootstrap=broker.bootstrap, topic_prefix=f"bench-{uuid.uuid4().hex[:6]}")
        ensure_topics(kafka)
        for round_ in range(args.rounds):
            for mode in MODES:
                access, key = None, None
                if mode != "no auth":
                    made = keys.create(
                        f"bench-{round_}-{len(latency[mode])}-{uuid.uuid4().hex[:4]}",
                        ["submit"],
                        "1000000/minute",
                        10_000_000,
                    )
                    store = REDIS if "Redis" in mode else "memory://"
                    authenticator = Authenticator(keys, KeyLimiter(store), 0.5, SqlSessionStore(engine), 12.0)
                    access, key = Access(authenticator), made.key
                app = create_app(
                    GatewaySettings(), kafka, SqlSubmissionStore(engine), SqlBatchStore(engine), access=access
                )
                latency[mode] += asyncio.run(_latencies(app, args.requests, key))
        engine.dispose()

    def summary(mode: str) -> dict[str, float]:
        ms = sorted(t * 1000 for t in latency[mode])
        return {"submit_p50_ms": round(statistics.median(ms), 2), "submit_p95_ms": round(ms[int(len(ms) * 0.95)], 2)}

    result: dict = {mode: summary(mode) for mode in MODES} | {
        "requests_per_mode": len(latency["no auth"]),
        "rounds": args.rounds,
        "machine": f"{os.cpu_count()} CPUs",
    }
    base = result["no auth"]["submit_p50_ms"]
    result["ratios_p50"] = {mode: round(result[mode]["submit_p50_ms"] / base, 2) for mode in MODES[1:]}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "auth.json").write_text(json.dumps(result, indent=2) + "\n")
    lines = [
        "# What access control costs a submission (bench/auth_bench.py)",
        "",
        f"{args.rounds} alternating rounds on {result['machine']}: {result['requests_per_mode']} sequential"
        " `POST /v1/texts` per mode through the gateway app (httpx over ASGI); embedded broker, local"
        " PostgreSQL and Redis.",
        "",
        "| mode | submit p50 ms | submit p95 ms | p50 / no auth |",
        "|---|---|---|---|",
        *(
            f"| {mode} | {result[mode]['submit_p50_ms']} | {result[mode]['submit_p95_ms']} | "
            f"{result['ratios_p50'].get(mode, 1.0)} |"
            for mode in MODES
        ),
    ]
    (RESULTS / "auth.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
