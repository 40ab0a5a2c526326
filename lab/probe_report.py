"""The evaluation report of a probe detector version: held-out folds, the test split, lengths, genres.

Every number is computed from the measure cache with the shipped artifact's calibration and thresholds:

- `held_out`: per fold of folds.py (a generator family or a genre never seen in fitting), the fold
  model's logits through the shipped calibration: ranking, labels at the operating point, ECE;
- `human_fpr`: per language and human genre, the share of human texts labelled machine (or mixed) when
  that genre was held out: the false positives a new kind of human writing meets;
- `test`: the shipped model on the test split, overall and by language, genre and generator family,
  labelled as the detector labels (machine, mixed from its segments, or human), with each text's
  probability (`texts`), so `veritext eval` can be checked against it;
- `length`: the same test texts cut to their first 25, 50, 100 and 200 words;
- `segments`: the test texts' segments (sentences, merged as the live scorer merges them), each judged
  by the segment model, labelled at the segment threshold;
"""

import json
from collections.abc import Sequence

import numpy as np

from lab.corpus import Corpus
from lab.folds import Fold
from lab.metrics import Metrics, compute_metrics
from scorer.detectors.probe_model import ProbeModel

__all__ = ["Report", "calibrated", "fold_metrics", "metrics_of", "report_json", "report_markdown"]

Report = dict[str, object]


def calibrated(model: ProbeModel, logits: np.ndarray, langs: Sequence[str]) -> np.ndarray:
    """Probabilities of `logits` through the artifact's per-language calibration."""
    a = np.array([model.calibration(lang).a for lang in langs])
    b = np.array([model.calibration(lang).b for lang in langs])
    return 1.0 / (1.0 + np.exp(-(a * logits + b)))


def metrics_of(
    model: ProbeModel,
    corpus: Corpus,
    index: np.ndarray,
    probability: np.ndarray,
    threshold: float | None = None,
    flagged: np.ndarray | None = None,
) -> Metrics:
    """Metrics of the texts `corpus[index]` with these probabilities, flagged as given (labels machine or
    mixed) or else at the artifact's thresholds (or at `threshold`)."""
    if flagged is None:
        langs = [corpus[i].record.lang or "other" for i in index]
        flagged = probability >= np.array([threshold or model.calibration(lang).threshold for lang in langs])
    truth = [corpus[i].machine for i in index]
    return compute_metrics(truth, probability, flagged)


def fold_metrics(model: ProbeModel, corpus: Corpus, fold: Fold, logits: np.ndarray) -> Metrics:
    index = np.flatnonzero(fold.judge)
    langs = [corpus[i].record.lang or "other" for i in index]
    return metrics_of(model, corpus, index, calibrated(model, logits, langs))


def _plain(value: object) -> object:
    if isinstance(value, Metrics):
        return value.model_dump()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def report_json(report: Report) -> str:
    return json.dumps(_plain(report), indent=1, ensure_ascii=False) + "\n"


_COLUMNS = ("n", "machine", "AUROC", "TPR@1%FPR", "TPR@5%FPR", "recall", "FPR", "ECE")


def _row(name: str, m: Metrics) -> str:
    values = (m.auroc, m.tpr_at_1fpr, m.tpr_at_5fpr, m.recall, m.fpr, m.ece)
    cells = [str(m.n), str(m.n_machine)] + ["-" if v is None else f"{v:.3f}" for v in values]
    return f"| {name} | " + " | ".join(cells) + " |"


def _table(title: str, rows: dict[str, Metrics]) -> list[str]:
    head = [f"\n## {title}\n", "| group | " + " | ".join(_COLUMNS) + " |", "|---" * (len(_COLUMNS) + 1) + "|"]
    return head + [_row(name, m) for name, m in rows.items()]


def report_markdown(report: Report) -> str:
    lines = [f"# Evaluation of {report['detector']}\n"]
    lines.append(
        f"Data sha256 `{str(report['data_sha256'])[:16]}`; probabilities assume a share of {report['prior']} "
        "machine text; labels at the thresholds of the artifact (`mixed` counts as flagged). recall and FPR "
        "are at the operating point."
    )
    lines += _table("Held out: a generator family or a genre never seen in fitting", report["held_out"])  # type: ignore[arg-type]
    lines += [
        "\n## False positives per human genre, the genre held out\n",
        "| language / genre | human texts | FPR |",
        "|---|---|---|",
    ]
    lines += [f"| {k} | {v['n']} | {v['fpr']:.3f} |" for k, v in report["human_fpr"].items()]  # type: ignore[attr-defined]
    test = report["test"]
    lines += _table("Test split, the shipped model", {"overall": test["overall"]})  # type: ignore[index]
    for field, groups in test["by"].items():  # type: ignore[index]
        lines += _table(f"Test split by {field}", groups)
    lines += _table("Test split by length (texts cut to their first N words)", report["length"])  # type: ignore[arg-type]
    lines += _table(
        "Test split, segments (sentences) by the segment model",
        {"segments": report["segments"]},  # type: ignore[dict-item]
    )
    return "\n".join(lines) + "\n"
