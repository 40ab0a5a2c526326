"""`veritext eval` as a whole process against a naive reference that does the same job, in one run.

Both score the same 48 test-split texts (English and Russian, as probe_bench.py picks them) with the
default probe's artifact and are timed as whole processes (start, imports, model load, scoring, exit):

- `veritext eval`: the command as users run it (its model cut after the deepest layer the probe reads,
  no output head, windows batched by length; the intake rule and the reading of schemas/reading.py);
- the reference: what a reader of the transformers documentation would write for the same probe. It
  loads the converted copy of the packaged model whole with `AutoModelForCausalLM.from_pretrained`,
  wraps it in `torch.compile`, reads the same text (intake rule and reading, so the answers can be
  compared) in batches of 16 padded on the right, asks for `output_hidden_states`, averages the probe's
  layers over the counted tokens and applies the artifact's linear model and its language's calibration;
- the same reference without `torch.compile` (eager), to tell the compiler's cost from the rest.

Alternating A B C A B C so the machine's drift hits each alike; speed as ratios within the run. The
reference reports its own phases (imports, load, first batch with compilation, the rest), and both
answers are compared text by text (largest difference of probability) and by AUROC. Results go to
bench/results/eval_speed.json and .md.

    python bench/eval_bench.py [--texts 48] [--rounds 2]
"""

import argparse
import csv
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from shared_texts import test_split_spread

ROOT = Path(__file__).resolve().parents[1]
VERITEXT = Path(sys.executable).with_name("veritext")
BATCH = 16
REFERENCES = ("reference-compiled", "reference-eager")


def _write_texts(path: Path, n: int) -> None:
    with path.open("w", encoding="utf-8") as out:
        for r in test_split_spread(n):
            out.write(json.dumps({"id": r.id, "text": r.text, "label": r.label, "lang": r.lang}) + "\n")


def reference(texts_path: Path, out_path: Path, compiled: bool) -> None:
    """The naive reference (see the module docstring); writes its phases and probabilities as JSON."""
    started = time.perf_counter()
    import numpy as np
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from schemas.reading import read_text
    from schemas.text import clean_text
    from scorer.detectors.packaged import MODEL_ID
    from scorer.detectors.probe_model import ProbeModel
    from scorer.detectors.registry import PACKAGED_PROBE
    from scorer.settings import ScorerSettings
    from scorer.window import read_window

    imported = time.perf_counter()
    probe = ProbeModel.load(PACKAGED_PROBE)
    folder = ScorerSettings().model_dir.expanduser() / MODEL_ID
    tokenizer = AutoTokenizer.from_pretrained(folder)
    tokenizer.padding_side = "right"
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()
    if compiled:
        model = torch.compile(model)
    loaded = time.perf_counter()
    records = [json.loads(line) for line in texts_path.read_text(encoding="utf-8").splitlines()]
    texts = [read_text(read_window(clean_text(r["text"]).text).text).text for r in records]
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    probabilities: dict[str, float] = {}
    batch_seconds = []
    for start in range(0, len(order), BATCH):
        batch_started = time.perf_counter()
        batch = order[start : start + BATCH]
        encoded = tokenizer(
            [texts[i] for i in batch], padding=True, truncation=True, max_length=probe.window, return_tensors="pt"
        )
        with torch.inference_mode():
            hidden = model(**encoded, output_hidden_states=True).hidden_states
        states = torch.cat([hidden[layer] for layer in probe.layers], dim=-1)
        counted = encoded["attention_mask"].clone()
        counted[:, : 1 + probe.skip_tokens] = 0  # the BOS and the opening tokens are context, not counted
        sums = (states * counted.unsqueeze(-1)).sum(dim=1).double().numpy()
        for row, i in enumerate(batch):
            mean = sums[row] / max(int(counted[row].sum()), 1)
            probabilities[records[i]["id"]] = probe.probability(np.asarray(mean), records[i]["lang"])
        batch_seconds.append(time.perf_counter() - batch_started)
    phases = {
        "imports": imported - started,
        "load": loaded - imported,
        "first_batch": batch_seconds[0],  # with the compilation, when compiled
        "other_batches": sum(batch_seconds[1:]),
    }
    out_path.write_text(json.dumps({"phases": phases, "probabilities": probabilities}), encoding="utf-8")


def _timed(command: list[str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    return time.perf_counter() - started


def run(n: int, rounds: int) -> dict[str, Any]:
    import torch
    from sklearn.metrics import roc_auc_score

    work = Path(tempfile.mkdtemp(prefix="eval-bench-"))
    texts_path, scores_path = work / "texts.jsonl", work / "scores.csv"
    _write_texts(texts_path, n)
    eval_command = [str(VERITEXT), "eval", str(texts_path), "--scores", str(scores_path)]
    commands = {
        "eval": eval_command,
        **{
            name: [sys.executable, __file__, f"--{name}", str(texts_path), str(work / f"{name}.json")]
            for name in REFERENCES
        },
    }
    _timed(eval_command)  # converts the packaged model once if this machine never did
    seconds: dict[str, list[float]] = {name: [] for name in commands}
    phases: dict[str, list[dict[str, float]]] = {name: [] for name in REFERENCES}
    for _ in range(rounds):
        for name, command in commands.items():
            seconds[name].append(_timed(command))
            if name in REFERENCES:
                phases[name].append(json.loads((work / f"{name}.json").read_text(encoding="utf-8"))["phases"])
    with scores_path.open(encoding="utf-8") as handle:
        ours = {row["id"]: (row["label"], float(row["probability"])) for row in csv.DictReader(handle)}
    answers = {"eval": {i: p for i, (_, p) in ours.items()}} | {
        name: json.loads((work / f"{name}.json").read_text(encoding="utf-8"))["probabilities"] for name in REFERENCES
    }
    labels = [ours[i][0] == "machine" for i in ours]
    speedup = {}
    for name in REFERENCES:
        ratios = [b / a for a, b in zip(seconds["eval"], seconds[name], strict=True)]
        speedup[name] = {"median": statistics.median(ratios), "min": min(ratios), "max": max(ratios)}
    return {
        "machine": f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} threads",
        "texts": len(ours),
        "rounds": rounds,
        "median_seconds": {name: statistics.median(s) for name, s in seconds.items()},
        "seconds": seconds,
        "speedup": speedup,
        "reference_phases": {
            name: {phase: statistics.median(run[phase] for run in runs) for phase in runs[0]}
            for name, runs in phases.items()
        },
        "auroc": {name: float(roc_auc_score(labels, [answer[i] for i in ours])) for name, answer in answers.items()},
        "largest_probability_difference": {
            name: max(abs(ours[i][1] - answers[name][i]) for i in ours) for name in REFERENCES
        },
    }


def _markdown(result: dict[str, Any]) -> str:
    rows = [
        "# `veritext eval` against a naive reference, whole processes, one run\n",
        f"{result['texts']} test-split texts, {result['rounds']} rounds alternating, {result['machine']}.\n",
        "| process | median wall s | eval faster by (pairs) | AUROC | largest difference of a probability |",
        "|---|---|---|---|---|",
        f"| `veritext eval` | {result['median_seconds']['eval']:.1f} | - | {result['auroc']['eval']:.4f} | - |",
    ]
    for name in REFERENCES:
        speedup = result["speedup"][name]
        rows.append(
            f"| {name} | {result['median_seconds'][name]:.1f} | {speedup['median']:.2f}x "
            f"({speedup['min']:.2f}-{speedup['max']:.2f}) | {result['auroc'][name]:.4f} "
            f"| {result['largest_probability_difference'][name]:.1e} |"
        )
    rows += ["", "| reference | imports s | load s | first batch s (compiles) | other batches s |"]
    rows.append("|---|---|---|---|---|")
    for name, phases in result["reference_phases"].items():
        rows.append(
            f"| {name} | {phases['imports']:.1f} | {phases['load']:.1f} | {phases['first_batch']:.1f} "
            f"| {phases['other_batches']:.1f} |"
        )
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--texts", type=int, default=48)
    parser.add_argument("--rounds", type=int, default=2)
    for name in REFERENCES:  # the bench runs each reference as a process of its own
        parser.add_argument(f"--{name}", nargs=2, type=Path, metavar=("TEXTS", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    for name in REFERENCES:
        if paths := getattr(args, name.replace("-", "_")):
            texts, out = paths
            reference(texts, out, compiled=name == "reference-compiled")
            return
    result = run(args.texts, args.rounds)
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "eval_speed.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    markdown = _markdown(result)
    (out / "eval_speed.md").write_text(markdown + "\n", encoding="utf-8")
    print(markdown)


if __name__ == "__main__":
    main()
