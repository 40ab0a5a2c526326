"""Replay benchmark: the rate of `veritext replay` (from the topic, through micro-batches, until
the scores are durable in [scores]) as a share of the bare throughput of the same detector on the
same texts and batch size, both measured in this process with the detector loaded once.

By default the detector is the real packaged one (`VERITEXT_SCORER_DETECTOR`); `--detector`
takes any spec, e.g. `tests.doubles:slow_fixed` (a test double that sleeps 0.2 s per batch).
Bare and replay runs alternate (`--rounds`), and the means are compared, so load from other
processes on the machine hits both alike. It starts its own embedded broker and PostgreSQL.
Results go to bench/results/replay.json and bench/results/replay.md (one entry per detector).

    python bench/replay_bench.py [--texts 48] [--words 120] [--batch 16] [--rounds 2] [--detector SPEC] [--data F]
"""

import argparse
import json
import os
import platform
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the test doubles are plug-ins under tests/

from scratch import embedded_services  # noqa: E402
from shared_texts import XSUM, load_texts  # noqa: E402

from schemas.events import SubmissionEvent  # noqa: E402
from scorer.detectors import Detector, load_detector  # noqa: E402
from scorer.settings import ScorerSettings  # noqa: E402
from store.db import make_engine  # noqa: E402
from stream.admin import ensure_topics  # noqa: E402
from stream.producer import EventProducer  # noqa: E402
from stream.settings import KafkaSettings  # noqa: E402
from veritext.replay import replay_window  # noqa: E402


def bare(detector: Detector, texts: list[str], batch: int) -> float:
    """Texts per second, scoring `texts` in batches of `batch`."""
    started = time.perf_counter()
    for i in range(0, len(texts), batch):
        detector.score(texts[i : i + batch])
    return len(texts) / (time.perf_counter() - started)


def submit(kafka: KafkaSettings, texts: list[str]) -> None:
    with EventProducer(kafka) as producer:
        for text in texts:
            event = SubmissionEvent(submission_id=uuid.uuid4(), text=text)
            producer.send(kafka.topics.submissions, str(event.submission_id), event, timestamp=event.submitted_at)
        producer.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--texts", type=int, default=48)
    parser.add_argument("--words", type=int, default=120)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--detector", default=ScorerSettings().detector)
    parser.add_argument("--data", type=Path, default=XSUM, help="a JSONL file of texts (shared/data/en/xsum.jsonl)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args()

    texts = load_texts(args.data, args.texts, args.words)
    settings = ScorerSettings()
    detector = load_detector(args.detector, cache_dir=settings.model_dir, options=settings.detector_options())
    detector.warmup()
    name = f"{detector.name}@{detector.version}"
    bare_rates, replay_rates, sources = [], [], set()
    quiet = Console(file=open(os.devnull, "w"))  # noqa: SIM115
    with embedded_services() as (_, broker, database_url):
        engine = make_engine(database_url, pool_size=2)
        for round_ in range(args.rounds):
            bare_rates.append(bare(detector, texts, args.batch))
            kafka = KafkaSettings(bootstrap=broker.bootstrap, topic_prefix=f"bench{round_}")
            ensure_topics(kafka)
            since = datetime.now(UTC)
            submit(kafka, texts)
            result = replay_window(
                kafka, engine, detector, since=since, until=None, max_batch=args.batch, console=quiet
            )
            assert result.counts.scored == len(texts), result
            replay_rates.append(result.counts.scored / result.elapsed_s)
            sources.add(result.source.split()[0])
            print(f"round {round_ + 1}: bare {bare_rates[-1]:.2f}/s, replay {replay_rates[-1]:.2f}/s", flush=True)
        engine.dispose()

    entry = {
        "detector": name,
        "texts": len(texts),
        "words_per_text": args.words,
        "batch": args.batch,
        "rounds": args.rounds,
        "read_from": sorted(sources),
        "bare_texts_per_s": statistics.mean(bare_rates),
        "replay_texts_per_s": statistics.mean(replay_rates),
        "ratio": statistics.mean(replay_rates) / statistics.mean(bare_rates),
        "bare_rounds": bare_rates,
        "replay_rounds": replay_rates,
    }
    path = args.out / "replay.json"
    results = json.loads(path.read_text()) if path.exists() else {}
    results["machine"] = {"cpus": os.cpu_count(), "platform": platform.platform()}
    results.setdefault("detectors", {})[args.detector] = entry
    args.out.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2) + "\n")
    (args.out / "replay.md").write_text(markdown(results))
    print(markdown(results))


def markdown(r: dict) -> str:
    lines = [
        "# Replay benchmark\n",
        f"CPU, {r['machine']['cpus']} cores. Replay = `veritext replay`'s work from the topic (plan, read, "
        "micro-batches, scores durable in [scores]) against the bare detector on the same texts and batch size, "
        "alternating rounds, means compared.\n",
        "| detector | texts x words, batch | bare | replay | replay / bare (target ≥ 0.9) | rounds: bare / replay |",
        "|---|---|---|---|---|---|",
    ]
    for spec, e in r["detectors"].items():
        lines.append(
            f"| {e['detector']} (`{spec}`) | {e['texts']} x {e['words_per_text']}, {e['batch']} | "
            f"{e['bare_texts_per_s']:.2f} texts/s | {e['replay_texts_per_s']:.2f} texts/s | {e['ratio']:.2f} | "
            + ", ".join(f"{b:.2f} / {r:.2f}" for b, r in zip(e["bare_rounds"], e["replay_rounds"], strict=True))
            + " |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
