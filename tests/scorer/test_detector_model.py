"""Tests of the real detectors on the packaged gemma-3-270m, and of the detector registry.

The `model` tests use the real model loaded once per session from `VERITEXT_SCORER_MODEL_DIR` (default
`~/.cache/veritext/models`); the first run converts the packaged GGUF there (about a minute on CPU).
The registry tests at the end need no model.
"""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lab.fit import Measured, fit_calibration
from schemas.errors import DetectorError
from scorer.detectors import available_detectors, load_detector
from scorer.detectors.calibration_model import Calibration
from scorer.detectors.likelihood import LikelihoodDetector
from scorer.detectors.lm_statistics import LMStatistics
from scorer.detectors.packaged import numerics_tag, versioned
from scorer.detectors.registry import DEFAULT_DETECTOR, PACKAGED_CALIBRATION, DetectorOptions
from tests.helpers import read_texts

ENGLISH = "The quick brown fox jumps over the lazy dog near the river bank."
RUSSIAN = "Быстрая коричневая лиса прыгает через ленивую собаку у берега реки."


@pytest.fixture(scope="session")
def detector(real_model) -> LikelihoodDetector:
    """The previous default, the likelihood detector, on the whole model (loaded once per session in conftest)."""
    return LikelihoodDetector(LMStatistics(real_model, skip_tokens=24), Calibration.load(PACKAGED_CALIBRATION))


@pytest.fixture
def statistics(detector) -> LMStatistics:
    return detector._statistics


@pytest.mark.model
def test_tokenizer_gives_the_known_gemma3_ids(statistics) -> None:
    [english] = statistics.windows(ENGLISH)
    [russian] = statistics.windows(RUSSIAN)
    assert english == [
        2, 818, 3823, 8864, 37423, 38167, 1024, 506, 31770, 4799, 3541, 506, 8858, 4856, 236761,
    ]  # fmt: skip
    assert russian == [
        2, 153218, 11426, 236895, 229707, 17304, 6377, 3971, 54295, 115172, 24080, 8581, 948, 33126,
        74482, 3115, 1754, 36296, 2680, 129112, 236761,
    ]  # fmt: skip


@pytest.mark.model
def test_mean_log_likelihood_matches_the_reference_values(statistics) -> None:
    every_token = LMStatistics(statistics.model, skip_tokens=0)
    english, russian = every_token.statistics([ENGLISH, RUSSIAN])
    assert (english.n_predicted, russian.n_predicted) == (14, 20)
    assert english.log_likelihood / 14 == pytest.approx(-3.07, abs=0.1)
    assert russian.log_likelihood / 20 == pytest.approx(-4.48, abs=0.1)
    thrice = " ".join([ENGLISH] * 3)
    [counted] = statistics.statistics([thrice])  # the opening is read as context, not counted
    assert counted.n_predicted == len(statistics.windows(thrice)[0]) - 1 - statistics.skip_tokens == 42 - 24


@pytest.mark.model
def test_scores_are_deterministic_and_independent_of_the_batch(detector) -> None:
    texts = read_texts("en/writing.jsonl", "human", 2) + read_texts("ru/ruatd_llama2.jsonl", "machine", 2)
    first = detector.score(texts)
    assert detector.score(texts) == first  # bit for bit on CPU
    alone = [detector.score([text])[0] for text in texts]
    mixed = detector.score([*reversed(texts), "Another short line to change the padding."])[:4][::-1]
    for reference, other in [*zip(first, alone, strict=True), *zip(first, mixed, strict=True)]:
        assert (other.n_tokens, other.lang, other.too_short) == (reference.n_tokens, reference.lang, False)
        assert other.probability == pytest.approx(reference.probability, abs=5e-3)  # bf16 head: padding moves it
    assert [v.lang for v in first] == ["en", "en", "ru", "ru"]
    for verdict in first:
        threshold = detector.calibration.for_language(verdict.lang).threshold
        assert 0.0 <= verdict.probability <= 1.0
        assert verdict.label == ("machine" if verdict.probability >= threshold else "human")


@pytest.mark.model
def test_tail_counts_are_the_tokens_the_model_found_unlikely(statistics) -> None:
    every_token = LMStatistics(statistics.model, skip_tokens=0)
    counting = " ".join(["one two three four five six seven eight nine ten"] * 4)
    gibberish = "qzx vbnm wpt kreel zogh plim vux dwaj frell nurb quix oomt sklep yarv glint obbo"
    counted, noise = every_token.statistics([counting, gibberish])
    for stats in (counted, noise):
        assert 0 <= stats.surprising <= stats.n_predicted and 0 <= stats.off_top <= stats.n_predicted
        assert stats.surprising == int(stats.surprising) and stats.off_top == int(stats.off_top)
    assert counted.surprising / counted.n_predicted < 0.1  # a count the model follows
    assert counted.off_top / counted.n_predicted < 0.1
    assert noise.surprising / noise.n_predicted > 0.5  # letters no one writes
    assert noise.off_top / noise.n_predicted > 0.5


@pytest.mark.model
def test_long_text_is_measured_whole_in_windows(detector, statistics) -> None:
    sentence = "The committee met again on Tuesday to discuss the budget for the new library building. "
    long_text = sentence * 60  # about 1,000 tokens: two windows
    windows = statistics.windows(long_text)
    assert len(windows) == 2 and len(windows[0]) == statistics.window
    [verdict] = detector.score([long_text])
    assert verdict.n_tokens == sum(len(w) - 1 for w in windows) - statistics.skip_tokens > statistics.window
    half = statistics.statistics([sentence * 30])[0]
    whole = statistics.statistics([long_text])[0]
    assert half.n_predicted < whole.n_predicted <= 2 * half.n_predicted + statistics.skip_tokens


@pytest.mark.model
def test_no_padded_sub_batch_exceeds_the_token_budget_and_a_text_longer_than_it_is_measured_whole(statistics):
    budget = 128
    small = LMStatistics(statistics.model, window=64, max_batch_tokens=budget, skip_tokens=8)
    shapes = []
    hook = statistics.model.body.register_forward_pre_hook(
        lambda _, args, kwargs: shapes.append(tuple(kwargs["input_ids"].shape)), with_kwargs=True
    )
    sentence = "The committee met again on Tuesday to discuss the budget for the new library building. "
    texts = [sentence * 12, ENGLISH, RUSSIAN, sentence * 3]  # the first: ~200 tokens, past the budget
    try:
        measured = small.statistics(texts)
    finally:
        hook.remove()
    assert shapes and all(rows * width <= budget for rows, width in shapes)
    for text, stats in zip(texts, measured, strict=True):
        assert stats.n_predicted == len(small.tokenize(text)) - 8
    assert measured[0].n_predicted > budget


@pytest.mark.model
def test_the_probe_on_its_cut_model_reads_the_states_of_the_whole_model(real_detector, real_model):
    """The probe's model ends at its deepest layer (no later layers, norm or head): the sums it measures
    are the whole model's, within 1e-6, so its scores keep the version."""
    cut = real_detector._statistics
    assert cut.model.cut and len(cut.model.body.layers) == max(cut.probe_layers) < len(real_model.body.layers)
    whole = LMStatistics(real_model, window=cut.window, skip_tokens=0, probe_layers=cut.probe_layers, with_head=False)
    texts = [ENGLISH, RUSSIAN, " ".join([ENGLISH] * 3)]
    tokenized = [cut.tokenize(text) for text in texts]
    bounds = [(0, len(t) // 2, len(t)) for t in tokenized]
    for a, b in zip(cut.measure(tokenized, bounds), whole.measure(tokenized, bounds), strict=True):
        assert (a.counts == b.counts).all()
        assert np.abs(a.states - b.states).max() <= 1e-6 * max(1.0, np.abs(b.states).max())
    assert cut.numerics == "cpu-fp32" and "cpu" not in real_detector.version


@pytest.mark.model
def test_texts_too_short_to_judge_get_the_prior_and_a_flag(detector) -> None:
    calibration = detector.calibration
    verdicts = detector.score(["Hi", "Thanks a lot!", "Привет", " ".join([ENGLISH] * 4)])
    for verdict in verdicts[:3]:
        assert verdict.too_short
        assert (verdict.probability, verdict.label) == (calibration.prior, "human")
        assert verdict.n_tokens < calibration.min_tokens
    assert not verdicts[3].too_short
    assert detector.score([]) == []


@pytest.mark.model
def test_language_other_uses_the_pooled_calibration(detector) -> None:
    text = (
        "Der schnelle braune Fuchs springt über den faulen Hund am Ufer des Flusses, und niemand sieht ihn dabei. "
        "Am Abend kehren die Fischer mit ihren Booten zurück, und auf dem Marktplatz riecht es nach frischem Brot. "
        "Die Kinder spielen noch lange auf der Wiese, bis ihre Eltern sie zum Essen nach Hause rufen."
    )
    [verdict] = detector.score([text])
    assert verdict.lang == "other" and not verdict.too_short
    assert verdict.label == detector.calibration.languages["other"].label(verdict.probability)


@pytest.mark.model
def test_machine_texts_score_higher_than_human_texts(detector) -> None:
    human = read_texts("en/xsum.jsonl", "human", 12)
    machine = read_texts("en/xsum.jsonl", "machine", 12)
    mean = {
        name: sum(v.probability for v in detector.score(texts)) / 12 for name, texts in (("h", human), ("m", machine))
    }
    assert mean["m"] > mean["h"] + 0.2, mean


@pytest.mark.model
def test_binoculars_with_the_packaged_model_as_observer_and_performer(detector, statistics, tmp_path: Path) -> None:
    """The two-model path: with one model in both roles the cross-entropy equals the entropy."""
    binoculars = LMStatistics(
        statistics.model,
        statistics.model,
        window=statistics.window,
        skip_tokens=statistics.skip_tokens,
        head_dtype=statistics.head_dtype,
    )
    texts = read_texts("en/squad.jsonl", "human", 4) + read_texts("en/squad.jsonl", "machine", 4)
    single, double = statistics.statistics(texts), binoculars.statistics(texts)
    for one, two in zip(single, double, strict=True):
        assert two.cross_entropy == pytest.approx(-two.expected_log_likelihood, rel=1e-3)
        assert two.log_likelihood == pytest.approx(one.log_likelihood, rel=1e-3)
    from lab.dataset import LabelledText

    measured = [
        Measured(LabelledText(text=t, label="human" if i < 4 else "machine", lang="en"), s)
        for i, (t, s) in enumerate(zip(texts, double, strict=True))
    ]
    model_id = statistics.model.model_id
    calibration = fit_calibration(
        measured,
        measured,
        model=model_id,
        performer=model_id,
        window=statistics.window,
        skip_tokens=statistics.skip_tokens,
        min_tokens=8,
        data_sha256="x",
    )
    assert calibration.performer == model_id and set(calibration.languages) == {"en", "other"}
    verdicts = LikelihoodDetector(binoculars, calibration).score(texts)
    assert all(0.0 <= v.probability <= 1.0 for v in verdicts)
    path = tmp_path / "binoculars.json"
    calibration.save(path)
    with pytest.raises(DetectorError, match="fitted for"):  # a calibration is bound to its models
        load_detector("likelihood", cache_dir=tmp_path, options=DetectorOptions(calibration=path))


def test_registry_lists_name_at_version_with_the_default_first() -> None:
    names = available_detectors()
    assert names[0].startswith(f"{DEFAULT_DETECTOR}@")
    assert any(n.startswith("probe@gemma3-270m-probe-") for n in names)
    assert any(n.startswith("likelihood@gemma3-270m-cal-") for n in names)
    assert any(n.startswith("fast-detectgpt@gemma3-270m-raw-") for n in names)


def test_the_arithmetic_other_than_cpu_fp32_is_part_of_the_version() -> None:
    reference = {s.partition("@")[0]: s.partition("@")[2] for s in available_detectors()}
    bf16_head = {
        s.partition("@")[0]: s.partition("@")[2] for s in available_detectors(DetectorOptions(head_precision="bf16"))
    }
    assert bf16_head["likelihood"] == f"{reference['likelihood']}-cpu-fp32-bf16head"
    assert bf16_head["fast-detectgpt"] == f"{reference['fast-detectgpt']}-cpu-fp32-bf16head"
    assert bf16_head["probe"] == reference["probe"]  # the shipped probe reads no output head
    assert numerics_tag("cuda", "bf16", "bf16") == "cuda-bf16" and versioned("v", "cuda-bf16") == "v-cuda-bf16"


def test_unknown_detector_name_lists_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(DetectorError, match="fast-detectgpt"):
        load_detector("no-such-detector", cache_dir=tmp_path)


def test_unknown_version_is_refused_before_the_model_loads(tmp_path: Path) -> None:
    version = next(s for s in available_detectors() if s.startswith("probe@")).partition("@")[2]
    with pytest.raises(DetectorError, match=version):
        load_detector("probe@gemma3-270m-probe-00000000", cache_dir=tmp_path)
    assert not any(tmp_path.iterdir())  # nothing was converted


def test_importing_the_registry_does_not_import_torch() -> None:
    code = "import sys, scorer.detectors; assert 'torch' not in sys.modules, 'torch was imported'"
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root, env=env)
