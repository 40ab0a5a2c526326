"""The default detector: zero-shot likelihood features of a causal LM, calibrated per language.

For each text: its likelihood statistics over windows (lm_statistics.py), its zero-shot features
(features.py), its language (language.py), and the calibration of that language (calibration_model.py)
give the probability that a machine wrote it and the label at the calibrated operating point (1% false
positives on the validation humans of that language).

Texts with fewer than `calibration.min_tokens` text tokens are too short to judge: they get the
calibration's prior as their probability, the label "human" (no evidence, so no accusation) and
`too_short=True`.

The version names the scoring model and hashes everything that changes a probability: the model ids,
the window and the calibration artifact.
"""

from collections.abc import Sequence
from typing import Protocol

from schemas.verdict import Verdict
from scorer.detectors.calibration_model import Calibration
from scorer.detectors.features import FEATURE_NAMES, feature_vector
from scorer.detectors.language import detect_language
from scorer.detectors.lm_statistics import TextStatistics
from scorer.detectors.packaged import artifact_version, versioned

__all__ = ["LikelihoodDetector", "StatisticsSource", "likelihood_version"]


class StatisticsSource(Protocol):
    numerics: str  # device class and precision (lm_statistics.py)

    def statistics(self, texts: Sequence[str]) -> list[TextStatistics]: ...


def likelihood_version(calibration: Calibration, numerics: str) -> str:
    """The version of a likelihood detector using `calibration` (which names its models and window)
    with `numerics` (packaged.py `versioned`)."""
    return versioned(artifact_version(calibration.model, "cal", calibration.sha256), numerics)


class LikelihoodDetector:
    name = "likelihood"

    def __init__(self, statistics: StatisticsSource, calibration: Calibration) -> None:
        if list(calibration.features) != list(FEATURE_NAMES):
            raise ValueError(f"the calibration uses features {calibration.features}, this code {FEATURE_NAMES}")
        self._statistics = statistics
        self.calibration = calibration
        self.version = likelihood_version(calibration, statistics.numerics)

    def warmup(self) -> None:
        self.score(["A short text to check that the model runs on this device, in a few more words."])

    def score(self, texts: Sequence[str]) -> list[Verdict]:
        return [
            self.verdict(text, stats) for text, stats in zip(texts, self._statistics.statistics(texts), strict=True)
        ]

    def verdict(self, text: str, stats: TextStatistics) -> Verdict:
        lang = detect_language(text)
        if stats.n_predicted < self.calibration.min_tokens:
            return Verdict(
                probability=self.calibration.prior, label="human", n_tokens=stats.n_predicted, lang=lang, too_short=True
            )
        calibration = self.calibration.for_language(lang)
        probability = calibration.probability(feature_vector(stats))
        return Verdict(
            probability=probability, label=calibration.label(probability), n_tokens=stats.n_predicted, lang=lang
        )
