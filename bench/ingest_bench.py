"""Bulk ingest benchmark: `veritext ingest` of a synthetic JSONL file of short texts into the
embedded broker, as a child process: events per second into the topic, and the peak resident
memory of the ingest process (the file is generated in /tmp and deleted afterwards).

It starts its own embedded broker and embedded PostgreSQL (for the batch ledger) in a temporary
directory. Results go to bench/results/ingest.json and bench/results/ingest.md.

    python bench/ingest_bench.py [--lines 1000000] [--words 12]
"""

import argparse
import json
import os
import platform
import random
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
from scratch import embedded_services

from store.batches import SqlBatchStore
from store.db import make_engine
from stream.admin import ensure_topics
from stream.settings import KafkaSettings

ROOT = Path(__file__).resolve().parents[1]
WORDS = ("the", "a", "of", "model", "text", "river", "quiet", "report", "week", "proposal", "village", "clock")


def write_file(path: Path, lines: int, words: int) -> int:
    """A JSONL file of `lines` short texts with ids; returns its size in bytes."""
    rng = random.Random(0)
    with open(path, "w", encoding="utf-8") as f:
        for i in range(lines):
            text = " ".join(rng.choice(WORDS) for _ in range(words))
            f.write(json.dumps({"id": f"doc-{i}", "text": f"{text} {i}."}) + "\n")
    return path.stat().st_size


class PeakRss(threading.Thread):
    """Samples a process's resident memory every 50 ms."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.process = psutil.Process(pid)
        self.peak_mb = 0.0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.05):
            try:
                self.peak_mb = max(self.peak_mb, self.process.memory_info().rss / 2**20)
            except psutil.Error:
                return


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--words", type=int, default=12)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args()

    with embedded_services() as (tmp, broker, database_url):
        data = tmp / "texts.jsonl"
        size = write_file(data, args.lines, args.words)
        print(f"{args.lines:,} lines, {size / 2**20:.0f} MiB in {data}", flush=True)
        kafka = KafkaSettings(bootstrap=broker.bootstrap)
        ensure_topics(kafka)
        env = {
            **os.environ,
            "VERITEXT_KAFKA_BOOTSTRAP": broker.bootstrap,
            "VERITEXT_DATABASE_URL": database_url,
            "VERITEXT_BULK_MAX_BACKLOG": "0",  # no scorer runs here: its lag is not what is measured
        }
        started = time.perf_counter()
        child = subprocess.Popen(
            [sys.executable, "-m", "veritext", "ingest", str(data), "--id-field", "id"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        rss = PeakRss(child.pid)
        rss.start()
        stdout, stderr = child.communicate()
        wall_s = time.perf_counter() - started
        rss.stop.set()
        rss.join()
        if child.returncode != 0:
            raise SystemExit(f"ingest exited {child.returncode}:\n{stdout}\n{stderr}")
        max_rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        engine = make_engine(database_url, pool_size=1)
        (batch,) = SqlBatchStore(engine).recent(1)
        engine.dispose()
        (tansu,) = [c for c in psutil.Process().children() if "tansu" in c.name()]
        broker_rss_mb = tansu.memory_info().rss / 2**20

    assert batch.finished_at is not None and batch.created_at is not None
    run_s = (batch.finished_at - batch.created_at).total_seconds()
    results = {
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "lines": args.lines,
        "file_mib": size / 2**20,
        "words_per_text": args.words + 1,
        "accepted": batch.submitted,
        "rejected": batch.rejected,
        "events_per_s": batch.submitted / run_s,
        "run_s": run_s,
        "wall_s_with_startup": wall_s,
        "peak_rss_mb": max(rss.peak_mb, max_rss_mb),
        "broker_rss_mb_after": broker_rss_mb,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "ingest.json").write_text(json.dumps(results, indent=2) + "\n")
    (args.out / "ingest.md").write_text(markdown(results))
    print(markdown(results))


def markdown(r: dict) -> str:
    rows = [
        ("events accepted (rejected)", f"{r['accepted']:,} ({r['rejected']:,})"),
        ("ingest rate into the topic (target ≥ 20,000/s)", f"{r['events_per_s']:,.0f} events/s"),
        ("run time (wall time with process start-up)", f"{r['run_s']:.1f} s ({r['wall_s_with_startup']:.1f} s)"),
        ("peak RSS of `veritext ingest` (target < 300 MB)", f"{r['peak_rss_mb']:.0f} MB"),
        ("embedded broker RSS afterwards (holds the topic in memory)", f"{r['broker_rss_mb_after']:.0f} MB"),
    ]
    head = (
        f"# Bulk ingest benchmark\n\nCPU, {r['machine']['cpus']} cores; a JSONL file of {r['lines']:,} lines "
        f"({r['file_mib']:.0f} MiB), each a text of {r['words_per_text']} words with an id, into the embedded "
        "broker (Tansu), `veritext ingest FILE --id-field id` as a child process\n\n"
    )
    return head + "| measure | result |\n|---|---|\n" + "".join(f"| {a} | {b} |\n" for a, b in rows)


if __name__ == "__main__":
    main()
