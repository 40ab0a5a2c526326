"""GPU benchmark of the default detector: bare throughput and through the pipeline, in one run.

1. **Bare detector.** Texts of exactly 256 and 512 tokens (English and Russian of shared/data, cut at a
   token boundary) scored in calls of a token budget from small to device-filling. Per budget: texts/s,
   tokens/s, peak GPU memory (`torch.cuda.max_memory_allocated`) and model FLOPs utilisation: the
   forward FLOPs of the layers the detector runs (2 x their parameters per token, plus attention over
   the window), over the card's dense bf16 peak.
2. **Through the pipeline.** An embedded broker and PostgreSQL, the sink and the scorer as `veritext`
   processes (the scorer's token budget the best bare one); texts of 256 tokens written to [submissions]
   as `veritext ingest` does, timed until the last score is a row of the log. The figure is a ratio of
   the bare one at the same budget. The goal: >= 2,000 texts/s of 256 tokens on one H100-class GPU.

Results go to bench/results/gpu.json and gpu.md. On a machine without a CUDA GPU it stops with a
message; `--smoke` runs it there at toy sizes into a temporary folder, to check the script itself.

    python bench/gpu_bench.py [--texts 8192] [--budgets 4096,16384,65536,131072,262144] [--smoke]
"""

import argparse
import json
import os
import platform
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import torch
from scratch import embedded_services
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from schemas.events import SubmissionEvent
from scorer.detectors import load_detector
from scorer.settings import ScorerSettings
from store.db import make_engine
from store.models import Score
from stream.admin import ensure_topics
from stream.processes import start_child, stop_child
from stream.producer import EventProducer
from stream.settings import KafkaSettings

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
SOURCES = ["en/xsum.jsonl", "en/writing.jsonl", "ru/lenta_news_human.jsonl", "chat/en_detectrl.jsonl"]
CUDA = torch.cuda.is_available()
PEAK_BF16_FLOPS = {"H200": 989e12, "H100": 989e12, "A100": 312e12, "L40S": 362e12, "L4": 121e12, "A10": 125e12}


def texts_of(tokenize, n: int, length: int) -> list[str]:
    """`n` texts of exactly `length` tokens, cut from the sources in turn (short ones joined)."""
    lines = [json.loads(line)["text"] for source in SOURCES for line in (DATA / source).open(encoding="utf-8")]
    texts, pending = [], ""
    for i in range(len(lines) * 4):
        pending = f"{pending} {lines[(i * 7919) % len(lines)]}".strip()
        tokens = tokenize(pending)
        if len(tokens) >= length:
            texts.append(pending[: tokens.offsets[length - 1][1]])
            pending = ""
            if len(texts) == n:
                return texts
    raise SystemExit(f"the sources give fewer than {n} texts of {length} tokens")


def flops_per_token(detector, window: int) -> float:
    """Forward FLOPs per token of the layers the detector runs: matmuls plus attention over the window."""
    statistics = detector._statistics
    body = statistics.model.body
    config = statistics.model.model.config.get_text_config()
    layer_params = sum(p.numel() for layer in body.layers for p in layer.parameters())
    attention = 2 * 2 * len(body.layers) * window * config.num_attention_heads * config.head_dim
    head = 2 * config.hidden_size * config.vocab_size if statistics.with_head else 0
    return 2 * layer_params + attention + head


def bare(detector, texts: list[str], length: int, budget: int, rounds: int) -> dict[str, float]:
    per_call = max(1, budget // length)
    calls = [texts[i : i + per_call] for i in range(0, len(texts), per_call)]
    detector.score(calls[0])  # the first call at this size allocates
    if CUDA:
        torch.cuda.reset_peak_memory_stats()
    started, scored = time.perf_counter(), 0
    for _ in range(rounds):
        for call in calls:
            scored += len(detector.score(call))
    seconds = time.perf_counter() - started
    row: dict[str, Any] = {
        "tokens": length,
        "budget": budget,
        "texts_per_call": per_call,
        "texts_per_s": scored / seconds,
    }
    row["tokens_per_s"] = row["texts_per_s"] * length
    if CUDA:  # score() returns host numbers, so the device has finished by now
        row["peak_gpu_mb"] = torch.cuda.max_memory_allocated() / 2**20
        name = torch.cuda.get_device_name()
        peak = next((flops for card, flops in PEAK_BF16_FLOPS.items() if card in name), None)
        achieved = row["tokens_per_s"] * flops_per_token(detector, length)
        row["mfu"] = achieved / peak if peak else None
    return row


def through_pipeline(texts: list[str], budget: int, env_extra: dict[str, str]) -> dict[str, float]:
    """Texts/s from the first submission written to the last score stored, scorer and sink as processes."""
    with embedded_services("vtgpu") as (_, broker, database_url):
        kafka = KafkaSettings(bootstrap=broker.bootstrap)
        ensure_topics(kafka)
        engine = make_engine(database_url)
        env = {
            **os.environ,
            **env_extra,
            "VERITEXT_KAFKA_BOOTSTRAP": broker.bootstrap,
            "VERITEXT_DATABASE_URL": database_url,
            "VERITEXT_SCORER_MAX_BATCH_TOKENS": str(budget),
            "VERITEXT_SCORER_MAX_BATCH": "4096",
        }
        components = [start_child([sys.executable, "-m", "veritext", name], env=env) for name in ("sink", "scorer")]
        try:
            with EventProducer(kafka) as producer:
                _send(producer, kafka, texts[:1])
                _wait_for(engine, 1, deadline_s=600)  # the scorer has loaded and warmed up
                started = time.perf_counter()
                _send(producer, kafka, texts)
            _wait_for(engine, 1 + len(texts), deadline_s=600)
            seconds = time.perf_counter() - started
        finally:
            for process in components:
                stop_child(process)
        engine.dispose()
    return {"texts": len(texts), "seconds": seconds, "texts_per_s": len(texts) / seconds}


def _send(producer: EventProducer, kafka: KafkaSettings, texts: list[str]) -> None:
    for text in texts:
        event = SubmissionEvent(submission_id=uuid.uuid4(), text=text)
        producer.send(kafka.topics.submissions, str(event.submission_id), event)
    producer.flush()


def _wait_for(engine, count: int, deadline_s: float) -> None:
    deadline = time.monotonic() + deadline_s
    while True:
        with Session(engine) as session:
            if (session.scalar(select(func.count()).select_from(Score)) or 0) >= count:
                return
        if time.monotonic() > deadline:
            raise SystemExit(f"fewer than {count} scores stored after {deadline_s:.0f} s")
        time.sleep(0.05)


def markdown(r: dict) -> str:
    lines = [
        "# GPU benchmark: the default detector bare and through the pipeline, one run\n",
        f"{r['device']}, {r['detector']}, torch {r['torch']}.\n",
        "| tokens/text | budget (tokens) | texts/call | texts/s | tokens/s | peak GPU MB | MFU |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in r["bare"]:
        mfu = f"{row['mfu']:.1%}" if row.get("mfu") is not None else "-"
        lines.append(
            f"| {row['tokens']} | {row['budget']:,} | {row['texts_per_call']} | {row['texts_per_s']:,.0f} | "
            f"{row['tokens_per_s']:,.0f} | {row.get('peak_gpu_mb', 0):,.0f} | {mfu} |"
        )
    e2e = r["pipeline"]
    lines += [
        "",
        f"Through the pipeline (broker -> scorer -> sink -> PostgreSQL), {e2e['texts']:,} texts of 256 tokens at "
        f"a budget of {r['pipeline_budget']:,} tokens: **{e2e['texts_per_s']:,.0f} texts/s**, "
        f"{r['pipeline_ratio']:.2f}x the bare figure at that budget (goal: 2,000 texts/s).",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--texts", type=int, default=8192)
    parser.add_argument("--budgets", default="4096,16384,65536,131072,262144")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--smoke", action="store_true", help="toy sizes on any device, results to a temp folder")
    args = parser.parse_args()
    if not CUDA and not args.smoke:
        raise SystemExit("no CUDA GPU here: this benchmark measures a GPU (--smoke checks the script on a CPU)")
    budgets = [int(b) for b in args.budgets.split(",")] if not args.smoke else [512, 1024]
    n = args.texts if not args.smoke else 8
    settings = ScorerSettings()
    detector: Any = load_detector(settings.detector, cache_dir=settings.model_dir, options=settings.detector_options())
    detector.warmup()
    tokenize = detector._statistics.tokenize
    results: dict = {
        "device": torch.cuda.get_device_name() if CUDA else f"cpu ({platform.processor() or platform.machine()})",
        "detector": f"{detector.name}@{detector.version}",
        "torch": torch.__version__,
        "bare": [],
    }
    for length in (256, 512):
        texts = texts_of(tokenize, n, length)
        for budget in budgets:
            row = bare(detector, texts, length, budget, 1 if args.smoke else args.rounds)
            print(json.dumps(row), flush=True)
            results["bare"].append(row)
    at_256 = [row for row in results["bare"] if row["tokens"] == 256]
    best = max(at_256, key=lambda row: row["texts_per_s"])
    results["pipeline_budget"] = best["budget"]
    results["pipeline"] = through_pipeline(texts_of(tokenize, n, 256), best["budget"], {})
    results["pipeline_ratio"] = results["pipeline"]["texts_per_s"] / best["texts_per_s"]
    out = Path(tempfile.mkdtemp(prefix="gpu-bench-smoke-")) if args.smoke else ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "gpu.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    (out / "gpu.md").write_text(markdown(results), encoding="utf-8")
    print(markdown(results))
    print(f"written to {out}")


if __name__ == "__main__":
    main()
