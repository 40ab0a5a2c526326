"""Fast-DetectGPT (Bao et al., ICLR 2024) as published, with a fixed logistic map: the baseline detector.

The probability is sigmoid((criterion - CENTER) / SCALE) of the raw analytic sampling discrepancy
(features.raw_criterion), without calibration or language awareness; the label is "machine" at 0.5. It
is kept as a second, simpler detector version, to compare against the calibrated default
(`veritext compare`) and to re-score with (`veritext replay`).

CENTER = -1.4 and SCALE = 0.42 came from a logistic regression on the raw criterion of 200 English texts
of shared/data/en (AUROC 0.93 there). Texts with fewer than 2 predicted tokens get 0.5 and "human".
"""

import hashlib
import math
from collections.abc import Sequence

from schemas.verdict import Verdict
from scorer.detectors.features import raw_criterion
from scorer.detectors.likelihood import StatisticsSource
from scorer.detectors.packaged import versioned

__all__ = ["CENTER", "SCALE", "FastDetectGPT", "fast_detectgpt_version"]

CENTER = -1.4
SCALE = 0.42
WINDOW = 512
SKIP_TOKENS = 0  # as published: every token counts
_MIN_PREDICTED = 2


def fast_detectgpt_version(model_id: str, numerics: str) -> str:
    digest = hashlib.sha256(f"{model_id}|{WINDOW}|{SKIP_TOKENS}|{CENTER!r}|{SCALE!r}".encode()).hexdigest()
    name = "gemma3-270m" if model_id.startswith("gemma-3-270m") else model_id
    return versioned(f"{name}-raw-{digest[:8]}", numerics)


class FastDetectGPT:
    name = "fast-detectgpt"

    def __init__(self, statistics: StatisticsSource, model_id: str) -> None:
        self._statistics = statistics
        self.version = fast_detectgpt_version(model_id, statistics.numerics)

    def warmup(self) -> None:
        self.score(["A short text to check that the model runs on this device."])

    def score(self, texts: Sequence[str]) -> list[Verdict]:
        verdicts = []
        for stats in self._statistics.statistics(texts):
            if stats.n_predicted < _MIN_PREDICTED:
                verdicts.append(Verdict(probability=0.5, label="human", n_tokens=stats.n_predicted, too_short=True))
                continue
            probability = _sigmoid((raw_criterion(stats) - CENTER) / SCALE)
            verdicts.append(
                Verdict(
                    probability=probability,
                    label="machine" if probability >= 0.5 else "human",
                    n_tokens=stats.n_predicted,
                )
            )
        return verdicts


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)
