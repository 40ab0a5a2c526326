"""The probe detector's artifact: from a span's likelihood statistics and hidden states to a probability.

One linear model reads, for any span of counted tokens (a whole text or one of its segments):

- the zero-shot likelihood features of features.py that the artifact names (per-token rates), and
- the mean hidden state of the probe layers over the span's tokens (a linear probe on the same forward
  pass: no extra model cost),

standardised with the training mean and scale, as one logistic regression (L2). Its logit z is then
calibrated Platt-style (per language where the artifact has one; the shipped one pools them):
p = sigmoid(a * z + b), with (a, b) fitted on out-of-genre
predictions (each text scored by a model that never saw its genre; `veritext train-probe`), at the
stated `prior` share of machine text (0.5: the two classes weighed equally). Segments (sentences) have
a linear model of their own (`SegmentModel`), fitted on sentences of the training texts (a sentence's
mean state is noisier and reads differently from a whole text's), with its own calibration and the
threshold from which a segment reads machine. The label threshold of each
language is the probability above which a text is called machine; it was set on those out-of-genre
human texts (see `threshold_rule`).

The artifact is a JSON file written by `veritext train-probe` and committed with the code
(`scorer/detectors/calibrations/`); its SHA-256 goes into the detector version. Its evaluation report
(per language, genre, generator and length) is a second file beside it, `<name>.report.json`.
"""

import math
from collections.abc import Sequence
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from scorer.detectors.artifact import Artifact
from scorer.detectors.features import FEATURE_NAMES, feature_vector
from scorer.detectors.lm_statistics import TextStatistics

__all__ = ["LanguageCalibration", "ProbeModel", "SegmentModel", "design_row"]


def design_row(stats: TextStatistics, states_sum: np.ndarray, likelihood_features: Sequence[str]) -> np.ndarray:
    """The model's input for one span: its likelihood features, then its mean probe state."""
    chosen = dict(zip(FEATURE_NAMES, feature_vector(stats), strict=True))
    likelihood = np.array([chosen[name] for name in likelihood_features], dtype=np.float64)
    return np.concatenate([likelihood, np.asarray(states_sum, dtype=np.float64) / max(stats.n_predicted, 1)])


class LanguageCalibration(BaseModel):
    model_config = ConfigDict(frozen=True)

    a: float = Field(gt=0.0, description="slope on the linear model's logit")
    b: float
    threshold: float = Field(ge=0.0, le=1.0, description="probability from which the label is 'machine'")


class SegmentModel(BaseModel):
    """The linear model of a segment's design row, calibrated: p = sigmoid(a * z + b)."""

    model_config = ConfigDict(frozen=True)

    mean: list[float]
    scale: list[float]
    coef: list[float]
    intercept: float
    a: float = Field(gt=0.0)
    b: float
    threshold: float = Field(ge=0.0, le=1.0, description="probability from which a segment reads machine")

    def probability(self, row: np.ndarray) -> float:
        standardised = (row - np.asarray(self.mean)) / np.asarray(self.scale)
        return _sigmoid(self.a * float(standardised @ np.asarray(self.coef) + self.intercept) + self.b)


class ProbeModel(Artifact):
    KIND = "probe model"

    format: Literal[3] = Field(3, description="3: reads texts through schemas/reading.py, has a segment model")
    model: str
    performer: str | None = None
    window: int
    skip_tokens: int = Field(ge=0, description="opening tokens read as context but not counted")
    layers: list[int] = Field(description="hidden-state layers the probe reads (0 = embeddings)")
    likelihood_features: list[str]
    min_tokens: int = Field(ge=1, description="fewer counted tokens than this: too short to judge")
    segment_tokens: int = Field(ge=1, description="sentences are merged until a segment counts this many tokens")
    prior: float = Field(ge=0.0, le=1.0, description="the share of machine text the probabilities assume")
    mean: list[float]
    scale: list[float]
    coef: list[float]
    intercept: float
    languages: dict[str, LanguageCalibration] = Field(
        description='per language ("en", "ru"), and "other", which every language without its own falls back to'
    )
    segment: SegmentModel = Field(description="the model of a segment (a sentence)")
    data_sha256: str = Field(description="the texts the fit saw, hashed as dataset.data_hash does")
    threshold_rule: str

    def logit(self, row: np.ndarray) -> float:
        """The linear model's logit for one design row."""
        standardised = (row - np.asarray(self.mean)) / np.asarray(self.scale)
        return float(standardised @ np.asarray(self.coef) + self.intercept)

    def calibration(self, lang: str) -> LanguageCalibration:
        return self.languages.get(lang) or self.languages["other"]

    def probability(self, row: np.ndarray, lang: str) -> float:
        calibration = self.calibration(lang)
        return _sigmoid(calibration.a * self.logit(row) + calibration.b)

    def segment_probability(self, row: np.ndarray) -> float:
        return self.segment.probability(row)

    def problem(self) -> str | None:
        if "other" not in self.languages:
            return "has no 'other' language fallback"
        unknown = set(self.likelihood_features) - set(FEATURE_NAMES)
        return f"names unknown features {sorted(unknown)}" if unknown else None


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))
