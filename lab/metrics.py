"""Detection metrics of a set of scored texts: ranking (AUROC, TPR at fixed FPR), the operating point
(precision, recall, F1 and false-positive rate of the labels) and calibration (ECE over 10 equal-width
bins, Brier score).

A metric that needs both classes (AUROC, TPR at FPR) is None when the texts hold only one.
"""

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel
from sklearn.metrics import brier_score_loss, precision_recall_fscore_support, roc_auc_score, roc_curve

__all__ = ["Metrics", "compute_metrics", "expected_calibration_error", "tpr_at_fpr"]


class Metrics(BaseModel):
    n: int
    n_machine: int
    auroc: float | None
    tpr_at_1fpr: float | None
    tpr_at_5fpr: float | None
    precision: float
    recall: float
    f1: float
    fpr: float | None  # share of the human texts labelled machine (None when there are none)
    ece: float
    brier: float


def tpr_at_fpr(truth: np.ndarray, probability: np.ndarray, max_fpr: float) -> float:
    """The highest true-positive rate at a threshold whose false-positive rate is at most `max_fpr`."""
    fpr, tpr, _ = roc_curve(truth, probability)
    return float(tpr[fpr <= max_fpr].max())


def expected_calibration_error(truth: np.ndarray, probability: np.ndarray, bins: int = 10) -> float:
    """Sum over equal-width probability bins of |mean probability - share of machine| times the bin's share."""
    which = np.minimum((probability * bins).astype(int), bins - 1)
    error = 0.0
    for b in range(bins):
        in_bin = which == b
        if in_bin.any():
            error += in_bin.mean() * abs(probability[in_bin].mean() - truth[in_bin].mean())
    return float(error)


def compute_metrics(truth: npt.ArrayLike, probability: npt.ArrayLike, predicted: npt.ArrayLike) -> Metrics:
    """`truth` and `predicted` are 1 for machine, 0 for human; `probability` is P(machine)."""
    y, p, labels = np.asarray(truth), np.asarray(probability, dtype=float), np.asarray(predicted)
    both = 0 < y.sum() < len(y)
    precision, recall, f1, _ = precision_recall_fscore_support(
        y, labels, average="binary", pos_label=1, zero_division=0.0
    )
    return Metrics(
        n=len(y),
        n_machine=int(y.sum()),
        auroc=float(roc_auc_score(y, p)) if both else None,
        tpr_at_1fpr=tpr_at_fpr(y, p, 0.01) if both else None,
        tpr_at_5fpr=tpr_at_fpr(y, p, 0.05) if both else None,
        precision=float(precision),
        recall=float(recall),
        f1=float(f1),
        fpr=float(labels[y == 0].mean()) if (y == 0).any() else None,
        ece=expected_calibration_error(y, p),
        brier=float(brier_score_loss(y, p, pos_label=1)) if len(y) else 0.0,
    )
