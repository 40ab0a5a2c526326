"""The calibration artifact: turns a text's features into a probability and a label, per language.

An artifact is a small JSON file written by `veritext train-calibration` and committed with the code
(`scorer/detectors/calibrations/`). It records what it was fitted for (the scoring model, the performer
for Binoculars, the window and the opening tokens not counted), the hash of the data it was fitted on,
and per language ("en", "ru", and "other" for everything else, fitted on both): a logistic regression
over standardised features and the operating threshold (the probability above which the label is
"machine", chosen for 1% false positives on the human texts of the validation split). Its SHA-256
goes into the detector version, so any change to it changes the version every score records.
"""

import math

from pydantic import BaseModel, ConfigDict, Field

from schemas.verdict import Label
from scorer.detectors.artifact import Artifact

__all__ = ["Calibration", "LanguageCalibration"]


class LanguageCalibration(BaseModel):
    model_config = ConfigDict(frozen=True)

    mean: list[float]
    scale: list[float]
    coef: list[float]
    intercept: float
    threshold: float = Field(ge=0.0, le=1.0)
    n_train: int
    n_validation_human: int
    validation: dict[str, float] = {}

    def probability(self, features: list[float]) -> float:
        z = self.intercept + sum(
            c * (x - m) / s for c, x, m, s in zip(self.coef, features, self.mean, self.scale, strict=True)
        )
        return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))

    def label(self, probability: float) -> Label:
        return "machine" if probability >= self.threshold else "human"


class Calibration(Artifact):
    KIND = "calibration"

    format: int = 1
    model: str
    performer: str | None = None
    window: int
    skip_tokens: int = Field(ge=0, description="opening tokens read as context but not counted")
    features: list[str]
    min_tokens: int = Field(ge=1, description="fewer predicted tokens than this: too short to judge")
    prior: float = Field(ge=0.0, le=1.0, description="the probability given to texts too short to judge")
    data_sha256: str
    data: dict[str, int] = Field(description="texts per split and language the fit used")
    languages: dict[str, LanguageCalibration]
    generalisation: dict[str, float] = Field(default={}, description="AUROC on each generator held out")

    def for_language(self, lang: str) -> LanguageCalibration:
        return self.languages.get(lang) or self.languages["other"]

    def problem(self) -> str | None:
        return None if "other" in self.languages else "has no 'other' language fallback"
