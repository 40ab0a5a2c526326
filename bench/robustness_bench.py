"""How the detector holds up off the clean path, with the real packaged model, on test-split texts of
modern chat models and the human texts of the same genres (English and Russian):

- each attack of lab/attacks.py applied to both labels: AUROC of attacked machine text against clean
  human text (the evader's case) and the recall at the operating point, against the clean figures; the
  false-positive rate of attacked human text;
- paragraph breaks (a blank line after every second sentence) in human text: false positives before and
  after;
- co-written texts (lab/attacks.py `cowrite`: a human passage and a machine passage of about 90 words,
  both orders): character-level AUROC of the segment probabilities, the share labelled human / mixed /
  machine, the share whose machine passage is found (most of its characters in segments at or above the
  segment threshold) and whose human passage reads human;
- four-sentence texts of about 60 words: how many segments they get.

Every text goes through the intake rule first (lab/evaluate.py `score_records`), as in the pipeline.
Results: bench/results/robustness.json and .md, and a copy of the JSON beside the probe's artifact
(`<artifact>.robustness.json`), which `GET /v1/detectors` shows in the report of the same version with
its weak list (scorer/detectors/weaknesses.py).

    python bench/robustness_bench.py [--per-cell 60] [--detector probe]
"""

import argparse
import json
import random
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import roc_auc_score

from lab.attacks import ATTACKS, cowrite, first_words, paragraphs
from lab.dataset import LabelledText, read_labelled, split_of
from lab.evaluate import score_records
from lab.metrics import compute_metrics
from scorer.detectors import load_detector
from scorer.detectors.registry import PACKAGED_PROBE, robustness_path
from scorer.settings import ScorerSettings

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
RESULTS = ROOT / "bench" / "results"
FILES = {  # file -> labels taken from it: modern chat-model text and human text of the same genres
    "chat/en_detectrl.jsonl": ("human", "machine"),
    "more/en_l2r.jsonl": ("human", "machine"),
    "chat/en_outfox_essays.jsonl": ("human", "machine"),
    "more/ru_m4_chatgpt.jsonl": ("human", "machine"),
    "ru/llm_explainer_machine.jsonl": ("machine",),
    "ru/lenta_news_human.jsonl": ("human",),
    "chat/ru_sci_abstracts.jsonl": ("human",),
    "chat/ru_gemini_dataset_build.jsonl": ("machine",),
}


def _records(per_cell: int) -> list[LabelledText]:
    chosen = []
    for name, labels in FILES.items():
        records = [r for r in read_labelled([DATA / name]) if split_of(r) == "test" and r.label in labels]
        random.Random(name).shuffle(records)
        for label in labels:
            chosen += [r for r in records if r.label == label][:per_cell]
    return chosen


def _scores(detector, records: list[LabelledText]) -> list:
    return [s.verdict for s in score_records(detector, records, 16, lambda n: None)]


def _summary(truth, verdicts) -> dict:
    metrics = compute_metrics(truth, [v.probability for v in verdicts], [v.label != "human" for v in verdicts])
    return {"n": metrics.n, "auroc": metrics.auroc, "recall": metrics.recall, "fpr": metrics.fpr}


def _attacks(detector, records: list[LabelledText]) -> dict:
    results = {}
    for lang in ("en", "ru"):
        mine = [r for r in records if r.lang == lang]
        humans = [r for r in mine if r.label == "human"]
        machines = [r for r in mine if r.label == "machine"]
        clean_h, clean_m = _scores(detector, humans), _scores(detector, machines)
        truth = [False] * len(clean_h) + [True] * len(clean_m)
        results[f"{lang} / clean"] = _summary(truth, clean_h + clean_m)
        for name, attack in ATTACKS.items():
            rng = random.Random(name)
            attacked_m = _scores(detector, [r.model_copy(update={"text": attack(r.text, rng)}) for r in machines])
            attacked_h = _scores(detector, [r.model_copy(update={"text": attack(r.text, rng)}) for r in humans])
            row = _summary(truth, clean_h + attacked_m)
            row["human_fpr"] = _summary([False] * len(attacked_h), attacked_h)["fpr"]
            results[f"{lang} / {name}"] = row
        rng = random.Random("paragraphs")
        broken = _scores(detector, [r.model_copy(update={"text": paragraphs(r.text, rng, lang)}) for r in humans])
        results[f"{lang} / paragraphs (human)"] = {
            "n": len(humans),
            "fpr_before": _summary([False] * len(clean_h), clean_h)["fpr"],
            "fpr_after": _summary([False] * len(broken), broken)["fpr"],
        }
    return results


def _cowritten(detector, records: list[LabelledText], threshold: float) -> dict:
    results = {}
    for lang in ("en", "ru"):
        humans = [r for r in records if r.lang == lang and r.label == "human"]
        machines = [r for r in records if r.lang == lang and r.label == "machine"]
        texts, spans = [], []
        for i, (h, m) in enumerate(zip(humans, machines, strict=False)):
            text, span = cowrite(h.text, m.text, lang, machine_first=bool(i % 2))
            texts.append(text)
            spans.append(span)
        made = [LabelledText(text=t, label="machine", lang=lang) for t in texts]
        verdicts = _scores(detector, made)
        truth, score, found, human_reads = [], [], 0, 0
        for text, (start, end), verdict in zip(texts, spans, verdicts, strict=True):
            per_char = np.zeros(len(text))
            for segment in verdict.segments:
                per_char[segment.start : segment.end] = segment.probability
            is_machine = np.zeros(len(text), dtype=bool)
            is_machine[start:end] = True
            letters = np.array([c.isalnum() for c in text])
            truth += list(is_machine[letters])
            score += list(per_char[letters])
            found += (per_char[start:end] >= threshold).mean() > 0.5
            human_reads += (per_char[~is_machine] < threshold).mean() > 0.5
        labels = Counter(v.label for v in verdicts)
        results[lang] = {
            "n": len(texts),
            "char_auroc": float(roc_auc_score(truth, score)),
            "labelled": {k: labels[k] / len(texts) for k in ("human", "mixed", "machine")},
            "machine_passage_found": found / len(texts),
            "human_passage_reads_human": human_reads / len(texts),
        }
    return results


def _four_sentences(detector, records: list[LabelledText]) -> dict:
    made = []
    for r in records:
        text = first_words(r.text, r.lang or "en", 60)
        if text.count(". ") >= 3:
            made.append(r.model_copy(update={"text": text}))
    counts = Counter(min(len(v.segments), 6) for v in _scores(detector, made[:60]))
    return {"n": sum(counts.values()), "segments": dict(sorted(counts.items()))}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--per-cell", type=int, default=60)
    parser.add_argument("--detector", default="probe")
    args = parser.parse_args()
    settings = ScorerSettings()
    detector: Any = load_detector(args.detector, cache_dir=settings.model_dir, options=settings.detector_options())
    records = _records(args.per_cell)
    threshold = detector.model.segment.threshold
    result = {
        "detector": f"{detector.name}@{detector.version}",
        "attacks": _attacks(detector, records),
        "cowritten": _cowritten(detector, records, threshold),
        "four_sentences": _four_sentences(detector, [r for r in records if r.lang == "en"]),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    written = json.dumps(result, indent=1) + "\n"
    (RESULTS / "robustness.json").write_text(written, encoding="utf-8")
    (RESULTS / "robustness.md").write_text(_markdown(result), encoding="utf-8")
    beside = robustness_path(settings.detector_options().probe or PACKAGED_PROBE)  # read into the report
    beside.write_text(written, encoding="utf-8")
    print(_markdown(result))


def _cell(value) -> str:
    return "-" if value is None else f"{value:.3f}"


def _markdown(result: dict) -> str:
    lines = [f"# Robustness of {result['detector']} (CPU, real model, test split)\n"]
    lines += ["| set | n | AUROC | recall | FPR (clean human) | FPR (attacked human) |", "|---|---|---|---|---|---|"]
    for name, row in result["attacks"].items():
        if "fpr_before" in row:
            continue
        cells = [_cell(row["auroc"]), _cell(row["recall"]), _cell(row["fpr"]), _cell(row.get("human_fpr"))]
        lines.append(f"| {name} | {row['n']} | " + " | ".join(cells) + " |")
    lines += ["\n| paragraph breaks in human text | n | FPR before | FPR after |", "|---|---|---|---|"]
    for name, row in result["attacks"].items():
        if "fpr_before" in row:
            lines.append(f"| {name} | {row['n']} | {_cell(row['fpr_before'])} | {_cell(row['fpr_after'])} |")
    lines += [
        "\n| co-written | n | char AUROC | human | mixed | machine | machine passage found | human passage human |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for lang, row in result["cowritten"].items():
        labelled = row["labelled"]
        cells = [row["char_auroc"], labelled["human"], labelled["mixed"], labelled["machine"]]
        cells += [row["machine_passage_found"], row["human_passage_reads_human"]]
        lines.append(f"| {lang} | {row['n']} | " + " | ".join(_cell(c) for c in cells) + " |")
    four = result["four_sentences"]
    lines.append(f"\nFour-sentence texts of about 60 words ({four['n']}): segments per text {four['segments']}.")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
