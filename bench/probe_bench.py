"""Speed of the default detector against the previous one, in one run: `probe` (hidden states of
layers 6, 9 and 12, per-sentence segments, no output head) and `likelihood` (the full output head),
on the same model and the same texts of the test split (English and Russian, modern and 2019-22),
alternating A B A B so the machine's drift hits both. Results go to bench/results/probe_speed.json and .md.

    python bench/probe_bench.py [--texts 48] [--rounds 3] [--batch 16]
"""

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

import torch

from lab.dataset import read_labelled, sample
from scorer.detectors import load_detector
from scorer.detectors.calibration_model import Calibration
from scorer.detectors.likelihood import LikelihoodDetector
from scorer.detectors.lm_statistics import LMStatistics
from scorer.detectors.registry import PACKAGED_CALIBRATION
from scorer.settings import ScorerSettings

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"


def _texts(n: int) -> list[str]:
    records = sample(list(read_labelled([DATA])), "test", 4)
    return sorted((r.text for r in records), key=len)[:: max(1, len(records) // n)][:n]


def run(n: int, rounds: int, batch: int) -> dict[str, object]:
    texts = _texts(n)
    settings = ScorerSettings()
    probe = load_detector("probe", cache_dir=settings.model_dir, options=settings.detector_options())
    model = probe._statistics.model
    likelihood = LikelihoodDetector(LMStatistics(model, skip_tokens=24), Calibration.load(PACKAGED_CALIBRATION))
    detectors = {"probe": probe, "likelihood": likelihood}
    for detector in detectors.values():
        detector.warmup()
    seconds: dict[str, list[float]] = {name: [] for name in detectors}
    tokens = {}
    for _ in range(rounds):
        for name, detector in detectors.items():
            started, verdicts = time.perf_counter(), []
            for i in range(0, len(texts), batch):
                verdicts += detector.score(texts[i : i + batch])
            seconds[name].append(time.perf_counter() - started)
            tokens[name] = sum(len(probe._statistics.tokenize(t)) for t in texts)
    ratios = [a / b for a, b in zip(seconds["likelihood"], seconds["probe"], strict=True)]
    return {
        "machine": f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} threads",
        "device": str(model.device),
        "texts": len(texts),
        "tokens": tokens["probe"],
        "median_seconds": {name: statistics.median(s) for name, s in seconds.items()},
        "texts_per_s": {name: len(texts) / statistics.median(s) for name, s in seconds.items()},
        "tokens_per_s": {name: tokens["probe"] / statistics.median(s) for name, s in seconds.items()},
        "speedup_probe_over_likelihood": {"median": statistics.median(ratios), "min": min(ratios), "max": max(ratios)},
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--texts", type=int, default=48)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch", type=int, default=16)
    args = parser.parse_args()
    result = run(args.texts, args.rounds, args.batch)
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "probe_speed.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    rows = [
        "# probe vs likelihood: scoring speed, one run\n",
        f"{result['texts']} test-split texts ({result['tokens']} tokens), {result['machine']}, {result['device']}.\n",
        "| detector | median s | texts/s | tokens/s |",
        "|---|---|---|---|",
    ]
    for name in ("probe", "likelihood"):
        rows.append(
            f"| {name} | {result['median_seconds'][name]:.1f} | {result['texts_per_s'][name]:.2f} "
            f"| {result['tokens_per_s'][name]:.0f} |"
        )
    speedup = result["speedup_probe_over_likelihood"]
    rows.append(f"\nprobe is {speedup['median']:.2f}x as fast (pairs: {speedup['min']:.2f}-{speedup['max']:.2f}).")
    (out / "probe_speed.md").write_text("\n".join(rows) + "\n", encoding="utf-8")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
