"""Bulk ingest benchmark: `veritext ingest` of a synthetic JSONL file of short texts into the embedded
broker, as a child process, topic only and recorded in PostgreSQL first (as under `veritext up`):
events per second into the topic, and the peak resident memory of the ingest process (the file is
generated in /tmp and deleted afterwards).

It starts its own embedded broker and embedded PostgreSQL (for the batch ledger and the recorded
submissions) in a temporary directory. Results go to bench/results/ingest.json and bench/results/ingest.md.

    python bench/ingest_bench.py [--lines 1000000] [--words 12]
"""

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
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


MODES = {"topic only": False, "recorded first, as under `up`": True}  # KafkaSettings.volatile


def ingest(data: Path, env: dict[str, str], database_url: str) -> dict:
    """Run `veritext ingest` on `data` as a child process; its batch's counts, rate and peak memory."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as output:
        child = subprocess.Popen(
            [sys.executable, "-m", "veritext", "ingest", str(data), "--id-field", "id"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        _, status, usage = os.wait4(child.pid, 0)  # reaps it with its own peak resident memory, exact
        wall_s = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode != 0:
            output.seek(0)
            raise SystemExit(f"ingest exited {child.returncode}:\n{output.read().decode()}")
    engine = make_engine(database_url, pool_size=1)
    (batch,) = SqlBatchStore(engine).recent(1)
    engine.dispose()
    assert batch.finished_at is not None and batch.created_at is not None
    run_s = (batch.finished_at - batch.created_at).total_seconds()
    return {
        "accepted": batch.submitted,
        "rejected": batch.rejected,
        "events_per_s": batch.submitted / run_s,
        "run_s": run_s,
        "wall_s_with_startup": wall_s,
        "peak_rss_mb": usage.ru_maxrss / 1024,  # kB on Linux
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--words", type=int, default=12)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args()

    modes = {}
    with embedded_services() as (tmp, broker, database_url):
        data = tmp / "texts.jsonl"
        size = write_file(data, args.lines, args.words)
        print(f"{args.lines:,} lines, {size / 2**20:.0f} MiB in {data}", flush=True)
        kafka = KafkaSettings(bootstrap=broker.bootstrap)
        ensure_topics(kafka)
        for mode, volatile in MODES.items():
            env = {
                **os.environ,
                "VERITEXT_KAFKA_BOOTSTRAP": broker.bootstrap,
                "VERITEXT_KAFKA_VOLATILE": str(volatile).lower(),
                "VERITEXT_DATABASE_URL": database_url,
                "VERITEXT_BULK_MAX_BACKLOG": "0",  # no scorer runs here: its lag is not what is measured
            }
            modes[mode] = ingest(data, env, database_url)
            print(mode, modes[mode], flush=True)
        (tansu,) = [c for c in psutil.Process().children() if "tansu" in c.name()]
        broker_rss_mb = tansu.memory_info().rss / 2**20

    results = {
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "lines": args.lines,
        "file_mib": size / 2**20,
        "words_per_text": args.words + 1,
        "modes": modes,
        "recorded_over_topic_only": modes["recorded first, as under `up`"]["events_per_s"]
        / modes["topic only"]["events_per_s"],
        "broker_rss_mb_after": broker_rss_mb,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "ingest.json").write_text(json.dumps(results, indent=2) + "\n")
    (args.out / "ingest.md").write_text(markdown(results))
    print(markdown(results))


def markdown(r: dict) -> str:
    head = (
        f"# Bulk ingest benchmark\n\nCPU, {r['machine']['cpus']} cores; a JSONL file of {r['lines']:,} lines "
        f"({r['file_mib']:.0f} MiB), each a text of {r['words_per_text']} words with an id, into the embedded "
        "broker (Tansu), `veritext ingest FILE --id-field id` as a child process, once topic only and once "
        "recorded in PostgreSQL first (what `veritext up` does with its in-memory broker), one after the other\n\n"
        "| mode | accepted (rejected) | events/s (target ≥ 20,000) | run s (wall s with start-up) "
        "| peak RSS MB (target < 300) |\n|---|---|---|---|---|\n"
    )
    rows = "".join(
        f"| {mode} | {m['accepted']:,} ({m['rejected']:,}) | {m['events_per_s']:,.0f} "
        f"| {m['run_s']:.1f} ({m['wall_s_with_startup']:.1f}) | {m['peak_rss_mb']:.0f} |\n"
        for mode, m in r["modes"].items()
    )
    tail = (
        f"\nRecorded first / topic only: x{r['recorded_over_topic_only']:.2f}. Embedded broker RSS afterwards "
        f"(holds both runs' topic in memory): {r['broker_rss_mb_after']:.0f} MB.\n"
    )
    return head + rows + tail


if __name__ == "__main__":
    main()
