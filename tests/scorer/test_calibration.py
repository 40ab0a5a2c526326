"""The leak-free split rule, the committed calibration artifact and the metrics of `veritext eval` (no model needed)."""

import numpy as np
import pytest

from lab.dataset import (
    TRAIN_PER_CELL,
    VALIDATION_PER_CELL,
    LabelledText,
    data_hash,
    read_labelled,
    sample,
    split_of,
)
from lab.metrics import compute_metrics, expected_calibration_error, tpr_at_fpr
from scorer.detectors import available_detectors
from scorer.detectors.calibration_model import Calibration
from scorer.detectors.features import FEATURE_NAMES
from scorer.detectors.likelihood import likelihood_version
from scorer.detectors.packaged import REFERENCE_NUMERICS
from scorer.detectors.registry import PACKAGED_CALIBRATION
from tests.helpers import labelled_data


def _shared_records() -> list[LabelledText]:
    """The files the likelihood calibration was fitted on: the 2019-22 base-model data (not chat/)."""
    data = labelled_data()
    return list(read_labelled([data / "en", data / "ru"]))


def test_no_source_document_spans_two_splits() -> None:
    records = _shared_records()
    splits_of_group: dict[str, set[str]] = {}
    for record in records:
        splits_of_group.setdefault(record.split_key, set()).add(split_of(record))
    assert all(len(splits) == 1 for splits in splits_of_group.values())
    english = [r for r in records if r.lang == "en"]
    assert all(r.group_id for r in english)  # the English split key is the source document
    shares = {s: sum(split_of(r) == s for r in records) / len(records) for s in ("train", "validation", "test")}
    assert shares["train"] == pytest.approx(0.6, abs=0.05)
    assert shares["test"] == pytest.approx(0.2, abs=0.05)


def test_sample_is_deterministic_one_text_per_document_and_label() -> None:
    records = _shared_records()
    first = sample(records, "validation", 20)
    assert first == sample(list(reversed(records)), "validation", 20)
    keys = [(r.split_key, r.label) for r in first]
    assert len(keys) == len(set(keys))
    assert {split_of(r) for r in first} == {"validation"}
    cells = {(r.lang, r.domain, r.label) for r in first}
    assert ("ru", "news", "human") in cells and ("en", "writing", "machine") in cells


def test_the_committed_calibration_matches_its_data_and_repeats_its_probabilities() -> None:
    calibration = Calibration.load(PACKAGED_CALIBRATION)
    records = _shared_records()
    fitted_on = sample(records, "train", TRAIN_PER_CELL) + sample(records, "validation", VALIDATION_PER_CELL)
    assert data_hash(fitted_on) == calibration.data_sha256  # the defaults of train-calibration reproduce it
    assert calibration.features == list(FEATURE_NAMES) and {"en", "ru", "other"} <= set(calibration.languages)
    again = Calibration.load(PACKAGED_CALIBRATION)
    assert again == calibration
    assert f"likelihood@{likelihood_version(again, REFERENCE_NUMERICS)}" in available_detectors()
    for lang, fitted in calibration.languages.items():
        assert 0.0 < fitted.threshold < 1.0 and fitted.validation["fpr_at_threshold"] <= 0.01
        rows = [fitted.mean, [m + s for m, s in zip(fitted.mean, fitted.scale, strict=True)]]
        first = [fitted.probability(row) for row in rows]
        assert first == [again.for_language(lang).probability(row) for row in rows]
        assert first[0] == pytest.approx(1 / (1 + np.exp(-fitted.intercept)))  # the mean text sits at the intercept


def test_metrics_of_a_known_example() -> None:
    truth = [0, 0, 0, 0, 1, 1, 1, 1]
    probability = [0.1, 0.2, 0.3, 0.6, 0.4, 0.7, 0.8, 0.9]
    predicted = [p >= 0.5 for p in probability]
    m = compute_metrics(truth, probability, predicted)
    assert m.n == 8 and m.n_machine == 4
    assert m.auroc == pytest.approx(15 / 16)
    assert m.tpr_at_1fpr == pytest.approx(0.75)  # 0.7, 0.8, 0.9 lie above every human
    assert (m.precision, m.recall) == (pytest.approx(0.75), pytest.approx(0.75))
    brier = np.mean((np.array(probability) - np.array(truth)) ** 2)
    assert m.brier == pytest.approx(brier)


def test_ece_is_zero_when_probabilities_match_frequencies_and_large_when_not() -> None:
    truth = np.array([1] * 3 + [0] * 7 + [1] * 7 + [0] * 3)
    calibrated = np.array([0.35] * 10 + [0.75] * 10)
    assert expected_calibration_error(truth, calibrated) == pytest.approx(0.05)
    overconfident = np.array([0.01] * 10 + [0.99] * 10)
    assert expected_calibration_error(truth, overconfident) > 0.25
    assert tpr_at_fpr(np.array([0, 1]), np.array([0.2, 0.9]), 0.0) == 1.0


def test_metrics_needing_both_classes_are_none_for_one_class() -> None:
    m = compute_metrics([0, 0], [0.2, 0.7], [0, 1])
    assert m.auroc is None and m.tpr_at_1fpr is None
    assert m.precision == 0.0
