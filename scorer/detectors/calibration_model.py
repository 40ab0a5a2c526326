"""The calibration artifact: turns a text's features into a probability and a label, per language.

An artifact is a small JSON file written by `veritext train-calibration` and committed with the code
(`scorer/detectors/calibrations/`). It records what it was fitted for (the scoring model, the performer
for Binoculars, the window and the opening tokens not counted), the hash of the data it was fitted on,
and per language ("en", "ru", and "other" for everything else, fitted on both): a logistic regression
over standardised features and the operating threshold (the probability above which the label is
"machine", chosen for 1% false positives on the human texts of the validation split). Its SHA-256
goes into the detector version, so any change to it changes the version every score records.
"""

import hashlib
import math
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from schemas.errors import DetectorError
from schemas.verdict import Label

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


class Calibration(BaseModel):
    model_config = ConfigDict(frozen=True)

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

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()

    def for_language(self, lang: str) -> LanguageCalibration:
        return self.languages.get(lang) or self.languages["other"]

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.model_dump_json(indent=2) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> "Calibration":
        try:
            calibration = cls.model_validate_json(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValidationError) as exc:
            raise DetectorError(f"cannot read the calibration {path}: {exc}") from exc
        if "other" not in calibration.languages:
            raise DetectorError(f"the calibration {path} has no 'other' language fallback")
        return calibration
