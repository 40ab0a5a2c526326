"""Pipeline benchmark: bare detector throughput vs. end-to-end throughput, gateway latency at a
fixed request rate while the scorer runs, and peak memory of each component; all in one run.

It starts its own embedded broker and embedded PostgreSQL (in a temporary directory) and the
three components as `veritext` processes, exactly as `veritext up` does (the scorer at up's lower
CPU priority). The gateway latency is measured twice while the scorer works through its backlog:
with the scorer at up's priority, then restarted at the gateway's own. The bare detector runs in a
process of its own: torch's idle worker threads would otherwise take the load generator's CPU and
inflate the latencies it measures (p95 7.6 s instead of 23 ms, measured). Results go to
bench/results/pipeline.json and bench/results/pipeline.md.

    python bench/pipeline_bench.py [--texts 96] [--batch 16] [--words 120] [--rate 200] [--seconds 10]
"""

import argparse
import asyncio
import json
import multiprocessing
import os
import platform
import statistics
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import psutil
import torch
from scratch import embedded_services
from shared_texts import XSUM, load_texts
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scorer.detectors import load_detector
from scorer.settings import ScorerSettings
from store.db import make_engine
from store.models import Score
from stream.admin import ensure_topics
from stream.embedded_broker import free_port
from stream.processes import start_child, stop_child
from stream.settings import KafkaSettings
from veritext.settings import UpSettings

ROOT = Path(__file__).resolve().parents[1]


def bare_throughput(texts: list[str], batch: int) -> dict[str, Any]:
    settings = ScorerSettings()
    detector = load_detector(settings.detector, cache_dir=settings.model_dir, options=settings.detector_options())
    detector.warmup()
    started, tokens = time.perf_counter(), 0
    for i in range(0, len(texts), batch):
        tokens += sum(v.n_tokens for v in detector.score(texts[i : i + batch]))
    seconds = time.perf_counter() - started
    return {
        "texts_per_s": len(texts) / seconds,
        "tokens_per_s": tokens / seconds,
        "seconds": seconds,
        "detector": f"{detector.name}@{detector.version}",
    }


class PeakRss(threading.Thread):
    """Samples the resident memory of each component (with its children) every 0.2 s."""

    def __init__(self, pids: dict[str, int]) -> None:
        super().__init__(daemon=True)
        self.processes = {name: psutil.Process(pid) for name, pid in pids.items()}
        self.peak_mb = dict.fromkeys(pids, 0.0)
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.2):
            for name, process in self.processes.items():
                try:
                    family = [process, *process.children(recursive=True)]
                    rss = sum(p.memory_info().rss for p in family) / 2**20
                except psutil.Error:
                    continue
                self.peak_mb[name] = max(self.peak_mb[name], rss)


def scored_count(engine) -> int:
    with Session(engine) as s:
        return s.scalar(select(func.count()).select_from(Score)) or 0


async def end_to_end(base: str, texts: list[str], engine, before: int) -> dict[str, float]:
    started = time.perf_counter()
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        limit = asyncio.Semaphore(32)

        async def submit(text: str) -> None:
            async with limit:
                answer = await client.post("/v1/texts", json={"text": text})
                answer.raise_for_status()

        await asyncio.gather(*(submit(t) for t in texts))
    while scored_count(engine) < before + len(texts):
        await asyncio.sleep(0.05)
    seconds = time.perf_counter() - started
    return {"texts_per_s": len(texts) / seconds, "seconds": seconds}


async def fixed_rate_latency(base: str, texts: list[str], rate: float, seconds: float) -> dict[str, float]:
    latencies: list[float] = []
    failed = 0
    total = int(rate * seconds)
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(base_url=base, timeout=10, limits=limits) as client:

        async def one(i: int, due: float) -> None:
            nonlocal failed
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            try:
                answer = await client.post("/v1/texts", json={"text": texts[i % len(texts)]})
                ok = answer.status_code == 202
            except httpx.HTTPError:
                ok = False
            latencies.append((time.perf_counter() - due) * 1000)  # from the scheduled send: open loop
            failed += not ok

        start = time.perf_counter() + 0.5
        await asyncio.gather(*(one(i, start + i / rate) for i in range(total)))
    cuts = statistics.quantiles(latencies, n=100)
    return {
        "requests": total,
        "rate_per_s": rate,
        "p50_ms": cuts[49],
        "p95_ms": cuts[94],
        "p99_ms": cuts[98],
        "failed_fraction": failed / total,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--texts", type=int, default=96)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--words", type=int, default=120)
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args()

    texts = load_texts(XSUM, args.texts, args.words)
    print(f"bare detector: {len(texts)} texts of {args.words} words, batch {args.batch}", flush=True)
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as own_process:
        bare = own_process.submit(bare_throughput, texts, args.batch).result()
    print(json.dumps(bare), flush=True)

    with embedded_services() as (_, broker, database_url):
        kafka = KafkaSettings(bootstrap=broker.bootstrap)
        ensure_topics(kafka)
        engine = make_engine(database_url)
        port = free_port()
        env = {
            **os.environ,
            "VERITEXT_KAFKA_BOOTSTRAP": broker.bootstrap,
            "VERITEXT_DATABASE_URL": database_url,
            "VERITEXT_GATEWAY_PORT": str(port),
            "VERITEXT_SCORER_MAX_BATCH": str(args.batch),
        }
        niceness = UpSettings().scorer_niceness

        def start(name: str, nice: int = 0):
            return start_child([sys.executable, "-m", "veritext", name], env=env, niceness=nice)

        components = {"sink": start("sink"), "scorer": start("scorer", niceness), "gateway": start("gateway")}
        rss = PeakRss({name: p.pid for name, p in components.items()})
        rss.start()
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 300
            while True:  # ready once a text makes the whole round trip
                try:
                    answer = httpx.post(f"{base}/v1/texts?wait=30", json={"text": texts[0]}, timeout=40)
                    if answer.status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise SystemExit("the pipeline did not come up in 300 s")
                time.sleep(1)
            while scored_count(engine) < 1:
                time.sleep(0.1)
            e2e = asyncio.run(end_to_end(base, texts, engine, before=scored_count(engine)))
            print(json.dumps(e2e), flush=True)
            latency = {niceness: asyncio.run(fixed_rate_latency(base, texts, args.rate, args.seconds))}
            print(json.dumps(latency), flush=True)
            stop_child(components["scorer"])
            components["scorer"] = start("scorer")
            rss.processes["scorer"] = psutil.Process(components["scorer"].pid)
            before = scored_count(engine)
            while scored_count(engine) == before:  # scoring the backlog again
                time.sleep(0.1)
            latency[0] = asyncio.run(fixed_rate_latency(base, texts, args.rate, args.seconds))
            print(json.dumps(latency[0]), flush=True)
        finally:
            for process in components.values():
                stop_child(process)
            rss.stop.set()
            rss.join()
        engine.dispose()

    results = {
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "torch_threads": torch.get_num_threads()},
        "device": "cuda" if torch.cuda.is_available() else "cpu",
        "texts": len(texts),
        "words_per_text": args.words,
        "batch": args.batch,
        "bare_detector": bare,
        "end_to_end": e2e,
        "end_to_end_ratio": e2e["texts_per_s"] / bare["texts_per_s"],
        "gateway_latency_while_scoring": {f"scorer_niceness_{n}": lat for n, lat in latency.items()},
        "peak_rss_mb": rss.peak_mb,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "pipeline.json").write_text(json.dumps(results, indent=2) + "\n")
    (args.out / "pipeline.md").write_text(markdown(results))
    print(markdown(results))


def markdown(r: dict) -> str:
    bare = r["bare_detector"]
    latency_rows = []
    for setup, lat in r["gateway_latency_while_scoring"].items():
        where = f"scorer at niceness {setup.rsplit('_', 1)[1]}"
        latency_rows += [
            (
                f"gateway submit latency at {lat['rate_per_s']:.0f} req/s while scoring, {where} (target p95 ≤ 50 ms)",
                f"p50 {lat['p50_ms']:.1f} ms, p95 {lat['p95_ms']:.1f} ms, p99 {lat['p99_ms']:.1f} ms",
            ),
            (f"failed requests, {where} (target ≤ 1%)", f"{lat['failed_fraction']:.2%} of {lat['requests']}"),
        ]
    rows = [
        ("bare detector", f"{bare['texts_per_s']:.2f} texts/s, {bare['tokens_per_s']:.0f} tokens/s"),
        ("end to end (gateway → broker → scorer → sink)", f"{r['end_to_end']['texts_per_s']:.2f} texts/s"),
        ("end-to-end / bare (target ≥ 0.9)", f"{r['end_to_end_ratio']:.2f}"),
        *latency_rows,
        *((f"peak RSS {name}", f"{mb:.0f} MB") for name, mb in r["peak_rss_mb"].items()),
    ]
    head = (
        f"# Pipeline benchmark\n\n{r['device'].upper()}, {r['machine']['cpus']} cores; {r['texts']} texts of "
        f"{r['words_per_text']} words, batch {r['batch']}; detector {bare['detector']}\n\n"
    )
    return head + "| measure | result |\n|---|---|\n" + "".join(f"| {a} | {b} |\n" for a, b in rows)


if __name__ == "__main__":
    main()
