"""Tests of the real Fast-DetectGPT detector on the packaged gemma-3-270m, and of the detector registry.

The `model` tests use the real model loaded once per session from `VERITEXT_SCORER_MODEL_DIR` (default
`~/.cache/veritext/models`); the first run converts the packaged GGUF there (about a minute on CPU).
The registry tests at the end need no model.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from schemas.errors import DetectorError
from scorer.detectors import available_detectors, load_detector

ENGLISH = "The quick brown fox jumps over the lazy dog near the river bank."
RUSSIAN = "Быстрая коричневая лиса прыгает через ленивую собаку у берега реки."  # noqa: RUF001
DATA_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "data"


@pytest.fixture
def detector(real_detector):
    """The real packaged detector (loaded once per session in conftest)."""
    return real_detector


@pytest.mark.model
def test_tokenizer_gives_the_known_gemma3_ids(detector) -> None:
    english, russian = detector.tokenize([ENGLISH, RUSSIAN])
    assert english == [
        2, 818, 3823, 8864, 37423, 38167, 1024, 506, 31770, 4799, 3541, 506, 8858, 4856, 236761,
    ]  # fmt: skip
    assert russian == [
        2, 153218, 11426, 236895, 229707, 17304, 6377, 3971, 54295, 115172, 24080, 8581, 948, 33126,
        74482, 3115, 1754, 36296, 2680, 129112, 236761,
    ]  # fmt: skip


@pytest.mark.model
def test_mean_log_likelihood_matches_the_reference_values(detector) -> None:
    english, russian = detector.statistics([ENGLISH, RUSSIAN])
    assert (english.n_tokens, russian.n_tokens) == (15, 21)
    assert english.mean_log_likelihood == pytest.approx(-3.07, abs=0.1)
    assert russian.mean_log_likelihood == pytest.approx(-4.48, abs=0.1)


@pytest.mark.model
def test_scores_are_deterministic_and_independent_of_the_batch(detector) -> None:
    texts = [
        ENGLISH,
        RUSSIAN,
        "Rain fell on the harbour all night, and by morning the fishing boats had stayed in. "
        "The market opened late, and the stalls sold bread and coffee instead of fish.",
        "Каждое утро она проверяла почту, поливала цветы на подоконнике и только потом садилась за работу.",
    ]
    first = detector.score(texts)
    assert detector.score(texts) == first  # bit for bit on CPU
    alone = [detector.score([text])[0] for text in texts]
    mixed = detector.score([*reversed(texts), "Another short line to change the padding."])[:4][::-1]
    for reference, other in [*zip(first, alone, strict=True), *zip(first, mixed, strict=True)]:
        assert other.n_tokens == reference.n_tokens
        assert other.label == reference.label
        assert other.probability == pytest.approx(reference.probability, abs=1e-4)
    for verdict in first:
        assert 0.0 <= verdict.probability <= 1.0
        assert verdict.label == ("machine" if verdict.probability >= 0.5 else "human")


@pytest.mark.model
def test_long_text_is_truncated_to_max_tokens(detector) -> None:
    sentence = "The committee met again on Tuesday to discuss the budget for the new library building. "
    long_text = sentence * 200  # 3,000 words
    [verdict] = detector.score([long_text])
    assert verdict.n_tokens == detector.max_tokens == 512


@pytest.mark.model
def test_texts_too_short_to_measure_get_one_half(detector) -> None:
    verdicts = detector.score(["", "Hi", ENGLISH])
    assert [v.n_tokens for v in verdicts[:2]] == [1, 2]
    assert [(v.probability, v.label) for v in verdicts[:2]] == [(0.5, "human"), (0.5, "human")]
    assert verdicts[2].probability != 0.5
    assert detector.score([]) == []


@pytest.mark.model
def test_machine_texts_score_higher_than_human_texts_on_xsum(detector) -> None:
    path = DATA_DIR / "en" / "xsum.jsonl"
    if not path.is_file():
        pytest.skip(f"labelled data not found at {path}")
    by_label: dict[str, list[str]] = {"human": [], "machine": []}
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            texts = by_label[record["label"]]
            if len(texts) < 20:
                texts.append(record["text"])
            if all(len(t) == 20 for t in by_label.values()):
                break
    mean = {label: sum(v.probability for v in detector.score(texts)) / len(texts) for label, texts in by_label.items()}
    assert mean["machine"] > mean["human"], mean


def test_registry_names_the_default_detector() -> None:
    assert available_detectors()[0].startswith("fast-detectgpt@"), "NAME@VERSION, the default first"


def test_unknown_detector_name_lists_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(DetectorError, match="fast-detectgpt"):
        load_detector("no-such-detector", cache_dir=tmp_path)


def test_unknown_version_is_refused_before_the_model_loads(tmp_path: Path) -> None:
    from scorer.detectors.fast_detectgpt import DEFAULT_VERSION

    with pytest.raises(DetectorError, match=DEFAULT_VERSION):
        load_detector("fast-detectgpt@gemma3-270m-00000000", cache_dir=tmp_path)
    assert not any(tmp_path.iterdir())  # nothing was converted


def test_importing_the_registry_does_not_import_torch() -> None:
    code = "import sys, scorer.detectors; assert 'torch' not in sys.modules, 'torch was imported'"
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root, env=env)
