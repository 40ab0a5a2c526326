"""CPU speed of the default detector before and after its model was cut, against the previous default,
in one run, with the AUROC check.

- `probe`: the default as it runs now, on gemma-3-270m cut after layer 12, the deepest it reads
  (causal_lm.py `cut_after`).
- `probe-whole`: the same probe on the whole model (all 18 layers): what it ran before.
- `likelihood`: the previous default, which runs the full 262,144-entry output head.

Same texts of the test split (English and Russian, modern and 2019-22), alternating A B C A B C so the
machine's drift hits each alike; speed as ratios within the run. The AUROC check scores the test split
and shared/data/chat (a sample of each) with `probe` and `probe-whole`. Results go to
bench/results/probe_speed.json and .md.

    python bench/probe_bench.py [--texts 48] [--rounds 3] [--batch 16] [--auroc-per-cell 20]
"""

import argparse
import json
import platform
import statistics
import time
from pathlib import Path
from typing import Any

import torch
from shared_texts import DATA, test_split_spread
from sklearn.metrics import roc_auc_score

from lab.dataset import read_labelled, sample
from scorer.detectors import load_detector
from scorer.detectors.calibration_model import Calibration
from scorer.detectors.causal_lm import load_causal_lm
from scorer.detectors.likelihood import LikelihoodDetector
from scorer.detectors.lm_statistics import LMStatistics
from scorer.detectors.probe import ProbeDetector
from scorer.detectors.registry import PACKAGED_CALIBRATION
from scorer.settings import ScorerSettings

ROOT = Path(__file__).resolve().parents[1]


def _detectors(settings: ScorerSettings) -> dict[str, Any]:
    probe: Any = load_detector("probe", cache_dir=settings.model_dir, options=settings.detector_options())
    cut = probe._statistics
    whole = load_causal_lm("packaged", cache_dir=settings.model_dir)
    on_whole = LMStatistics(  # as the probe ran before the cut: the whole body, no head
        whole, window=cut.window, skip_tokens=cut.skip_tokens, probe_layers=cut.probe_layers, with_head=False
    )
    likelihood = LikelihoodDetector(LMStatistics(whole, skip_tokens=24), Calibration.load(PACKAGED_CALIBRATION))
    return {"probe": probe, "probe-whole": ProbeDetector(on_whole, probe.model), "likelihood": likelihood}


def _auroc(detector, records, batch: int) -> float:
    scores = []
    for i in range(0, len(records), batch):
        scores += [v.probability for v in detector.score([r.text for r in records[i : i + batch]])]
    return float(roc_auc_score([r.label == "machine" for r in records], scores))


def run(n: int, rounds: int, batch: int, per_cell: int) -> dict[str, Any]:
    texts = [r.text for r in test_split_spread(n)]
    detectors = _detectors(ScorerSettings())
    tokenize = detectors["probe"]._statistics.tokenize
    tokens = sum(len(tokenize(t)) for t in texts)
    for detector in detectors.values():
        detector.warmup()
    seconds: dict[str, list[float]] = {name: [] for name in detectors}
    for _ in range(rounds):
        for name, detector in detectors.items():
            started = time.perf_counter()
            for i in range(0, len(texts), batch):
                detector.score(texts[i : i + batch])
            seconds[name].append(time.perf_counter() - started)
    ratios = {
        f"probe_over_{other}": [a / b for a, b in zip(seconds[other], seconds["probe"], strict=True)]
        for other in ("probe-whole", "likelihood")
    }
    splits = {
        "test split": sample(list(read_labelled([DATA / "en", DATA / "ru"])), "test", per_cell),
        "chat": sample(list(read_labelled([DATA / "chat"])), "test", per_cell),
    }
    auroc = {
        split: {name: _auroc(detectors[name], records, batch) for name in ("probe", "probe-whole")}
        | {"texts": len(records)}
        for split, records in splits.items()
    }
    return {
        "machine": f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} threads",
        "device": "cpu",
        "texts": len(texts),
        "tokens": tokens,
        "median_seconds": {name: statistics.median(s) for name, s in seconds.items()},
        "texts_per_s": {name: len(texts) / statistics.median(s) for name, s in seconds.items()},
        "tokens_per_s": {name: tokens / statistics.median(s) for name, s in seconds.items()},
        "speedup": {name: {"median": statistics.median(r), "min": min(r), "max": max(r)} for name, r in ratios.items()},
        "auroc": auroc,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--texts", type=int, default=48)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--auroc-per-cell", type=int, default=20)
    args = parser.parse_args()
    result = run(args.texts, args.rounds, args.batch, args.auroc_per_cell)
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "probe_speed.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    rows = [
        "# The default detector on CPU: before and after the cut, and the previous default; one run\n",
        f"{result['texts']} test-split texts ({result['tokens']} tokens), {result['machine']}, {result['device']}.\n",
        "| detector | median s | texts/s | tokens/s |",
        "|---|---|---|---|",
    ]
    for name in result["median_seconds"]:
        rows.append(
            f"| {name} | {result['median_seconds'][name]:.1f} | {result['texts_per_s'][name]:.2f} "
            f"| {result['tokens_per_s'][name]:.0f} |"
        )
    for name, speedup in result["speedup"].items():
        rows.append(
            f"\n{name.replace('_', ' ')}: {speedup['median']:.2f}x (pairs: {speedup['min']:.2f}-{speedup['max']:.2f})."
        )
    rows += ["", "| AUROC | texts | probe | probe-whole |", "|---|---|---|---|"]
    for split, row in result["auroc"].items():
        rows.append(f"| {split} | {row['texts']} | {row['probe']:.4f} | {row['probe-whole']:.4f} |")
    (out / "probe_speed.md").write_text("\n".join(rows) + "\n", encoding="utf-8")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
