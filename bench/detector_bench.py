"""Detector arithmetic benchmark: speed and accuracy of the output head in fp32 vs. bfloat16, one run.

The model pass is where the time goes, and the output head (640 x 262,144 for gemma-3-270m) is most of
it. This measures, on the same texts of the test split of shared/data (half human, half machine, English
and Russian), for each head precision: texts/s and tokens/s of the likelihood statistics, and the AUROC
of the calibrated probability. A precision is kept for the CPU path only if its AUROC stays within 0.005
of fp32. Results go to bench/results/detector_<device>.json and .md.

    python bench/detector_bench.py [--per-cell 6] [--batch 16]
"""

import argparse
import json
import platform
import time
from pathlib import Path
from typing import Any

import torch
from sklearn.metrics import roc_auc_score

from lab.dataset import read_labelled, sample
from scorer.detectors.calibration_model import Calibration
from scorer.detectors.causal_lm import load_causal_lm
from scorer.detectors.likelihood import LikelihoodDetector
from scorer.detectors.lm_statistics import LMStatistics
from scorer.detectors.registry import PACKAGED_CALIBRATION
from scorer.settings import ScorerSettings

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
PRECISIONS = {"fp32": torch.float32, "bf16": torch.bfloat16}


def run(per_cell: int, batch: int) -> dict[str, Any]:
    records = sample(list(read_labelled([DATA])), "test", per_cell)
    records.sort(key=lambda r: len(r.text))
    truth = [r.label == "machine" for r in records]
    lm = load_causal_lm("packaged", cache_dir=ScorerSettings().model_dir)
    calibration = Calibration.load(PACKAGED_CALIBRATION)
    results = {}
    for name, dtype in PRECISIONS.items():
        statistics = LMStatistics(lm, window=calibration.window, skip_tokens=calibration.skip_tokens, head_dtype=dtype)
        detector = LikelihoodDetector(statistics, calibration)
        detector.warmup()
        started, verdicts = time.perf_counter(), []
        for i in range(0, len(records), batch):
            verdicts += detector.score([r.text for r in records[i : i + batch]])
        elapsed = time.perf_counter() - started
        tokens = sum(v.n_tokens for v in verdicts)
        results[name] = {
            "texts_per_s": len(records) / elapsed,
            "tokens_per_s": tokens / elapsed,
            "auroc": roc_auc_score(truth, [v.probability for v in verdicts]),
            "seconds": elapsed,
        }
        print(name, results[name], flush=True)
    return {
        "device": str(lm.device),
        "machine": f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} threads",
        "bf16_supported_on_cpu": bool(torch.ops.mkldnn._is_mkldnn_bf16_supported()),
        "texts": len(records),
        "machine_texts": sum(truth),
        "batch": batch,
        "detector_version": detector.version,
        "precisions": results,
        "auroc_delta_bf16": results["bf16"]["auroc"] - results["fp32"]["auroc"],
        "speedup_bf16": results["bf16"]["tokens_per_s"] / results["fp32"]["tokens_per_s"],
    }


def markdown(r: dict[str, Any]) -> str:
    lines = [
        f"# Detector head precision on {r['device']} ({r['machine']})\n",
        f"{r['texts']} texts of the test split ({r['machine_texts']} machine), batch {r['batch']}, "
        f"detector {r['detector_version']}.\n",
        "| head | texts/s | tokens/s | AUROC |",
        "|---|---|---|---|",
    ]
    for name, m in r["precisions"].items():
        lines.append(f"| {name} | {m['texts_per_s']:.2f} | {m['tokens_per_s']:.0f} | {m['auroc']:.4f} |")
    lines.append(
        f"\nbf16 vs fp32: {r['speedup_bf16']:.2f}x the tokens/s, AUROC {r['auroc_delta_bf16']:+.4f} "
        "(kept when within 0.005).\n"
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-cell", type=int, default=6, help="test texts per language/domain/label")
    parser.add_argument("--batch", type=int, default=16)
    args = parser.parse_args()
    result = run(args.per_cell, args.batch)
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    stem = f"detector_{'gpu' if result['device'].startswith('cuda') else 'cpu'}"
    (out / f"{stem}.json").write_text(json.dumps(result, indent=2) + "\n")
    (out / f"{stem}.md").write_text(markdown(result))
    print(markdown(result))


if __name__ == "__main__":
    main()
