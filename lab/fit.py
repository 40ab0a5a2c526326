"""Fits the calibration artifact (calibration_model.py) from labelled texts and their statistics.

Per language ("en", "ru", and "other" pooled over all of them):

A language without both labels in the training and validation data gets no model of its own and is
scored with "other".

1. Features of the training texts with at least `min_tokens` tokens, standardised (mean, scale).
2. A logistic regression (scikit-learn, L2, balanced class weights) over the features that language
   uses (`LANGUAGE_FEATURES`; the others get a weight of 0).
3. The threshold: the lowest probability that labels at most 1% of the validation human texts of that
   language "machine"; validation AUROC, TPR and FPR at that threshold are recorded beside it.

Russian leaves out `log_tokens`: in shared/data/ru the human and machine sides differ in genre and
length (news vs. explainers, Llama-2 rewrites longer than their sources), so length would be learnt
as a shortcut that does not carry to other texts.

Generalisation: for each English generator, a model fitted without that generator's texts scores the
validation humans against that generator's validation texts; the AUROCs go into the artifact.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from lab.dataset import LabelledText
from scorer.detectors.calibration_model import Calibration, LanguageCalibration
from scorer.detectors.features import FEATURE_NAMES, feature_vector
from scorer.detectors.lm_statistics import TextStatistics

__all__ = ["LANGUAGE_FEATURES", "MAX_FPR", "Measured", "fit_calibration"]

MAX_FPR = 0.01
LANGUAGE_FEATURES: dict[str, tuple[str, ...]] = {
    "en": FEATURE_NAMES,
    "ru": tuple(f for f in FEATURE_NAMES if f != "log_tokens"),
    "other": tuple(f for f in FEATURE_NAMES if f != "log_tokens"),
}


@dataclass(frozen=True)
class Measured:
    record: LabelledText
    stats: TextStatistics


def fit_calibration(
    train: Sequence[Measured],
    validation: Sequence[Measured],
    *,
    model: str,
    performer: str | None,
    window: int,
    skip_tokens: int,
    min_tokens: int,
    data_sha256: str,
) -> Calibration:
    train = [m for m in train if m.stats.n_predicted >= min_tokens]
    validation = [m for m in validation if m.stats.n_predicted >= min_tokens]
    languages = {}
    for lang, features in LANGUAGE_FEATURES.items():
        lang_train = [m for m in train if lang == "other" or m.record.lang == lang]
        lang_validation = [m for m in validation if lang == "other" or m.record.lang == lang]
        if lang == "other" or (_both_labels(lang_train) and _both_labels(lang_validation)):
            languages[lang] = _fit_language(lang_train, lang_validation, features)
    counts = {
        f"{split}_{lang}": sum(m.record.lang == lang for m in ms)
        for split, ms in (("train", train), ("validation", validation))
        for lang in ("en", "ru")
    }
    return Calibration(
        model=model,
        performer=performer,
        window=window,
        skip_tokens=skip_tokens,
        features=list(FEATURE_NAMES),
        min_tokens=min_tokens,
        prior=float(np.mean([m.record.label == "machine" for m in train])),
        data_sha256=data_sha256,
        data=counts,
        languages=languages,
        generalisation=_held_out_generators(train, validation),
    )


def _both_labels(measured: Sequence[Measured]) -> bool:
    return len({m.record.label for m in measured}) == 2


def _matrix(measured: Sequence[Measured]) -> tuple[np.ndarray, np.ndarray]:
    x = np.array([feature_vector(m.stats) for m in measured], dtype=float)
    y = np.array([m.record.label == "machine" for m in measured], dtype=int)
    return x, y


def _fit_language(
    train: Sequence[Measured], validation: Sequence[Measured], features: Sequence[str]
) -> LanguageCalibration:
    x, y = _matrix(train)
    if len(set(y)) < 2:
        raise ValueError(f"the training data need both human and machine texts (got {len(y)} texts of one label)")
    used = [FEATURE_NAMES.index(f) for f in features]
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-9
    regression = LogisticRegression(C=1.0, class_weight="balanced", max_iter=1000)
    regression.fit(((x - mean) / scale)[:, used], y)
    coef = np.zeros(len(FEATURE_NAMES))
    coef[used] = regression.coef_[0]
    calibration = LanguageCalibration(
        mean=mean.tolist(),
        scale=scale.tolist(),
        coef=coef.tolist(),
        intercept=float(regression.intercept_[0]),
        threshold=1.0,
        n_train=len(y),
        n_validation_human=0,
    )
    vx, vy = _matrix(validation)
    probability = np.array([calibration.probability(row) for row in vx.tolist()])
    human = np.sort(probability[vy == 0])[::-1]
    if len(human) == 0:
        raise ValueError("the validation data hold no human texts to set the operating threshold on")
    allowed = int(MAX_FPR * len(human))  # false positives allowed among the validation humans
    threshold = float(np.nextafter(human[allowed], 1.0))
    report = {
        "auroc": float(roc_auc_score(vy, probability)) if len(set(vy)) == 2 else float("nan"),
        "tpr_at_threshold": float((probability[vy == 1] >= threshold).mean()) if (vy == 1).any() else float("nan"),
        "fpr_at_threshold": float((human >= threshold).mean()),
    }
    return calibration.model_copy(
        update={"threshold": threshold, "n_validation_human": len(human), "validation": report}
    )


def _held_out_generators(train: Sequence[Measured], validation: Sequence[Measured]) -> dict[str, float]:
    english_train = [m for m in train if m.record.lang == "en"]
    english_validation = [m for m in validation if m.record.lang == "en"]
    generators = sorted({m.record.generator for m in english_train if m.record.generator})
    result = {}
    for generator in generators:
        fitted = _fit_language(
            [m for m in english_train if m.record.generator != generator],
            english_validation,
            LANGUAGE_FEATURES["en"],
        )
        held_out = [m for m in english_validation if m.record.label == "human" or m.record.generator == generator]
        x, y = _matrix(held_out)
        if len(set(y)) == 2:
            result[generator] = float(roc_auc_score(y, [fitted.probability(row) for row in x.tolist()]))
    return result
