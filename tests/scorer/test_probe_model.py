"""The default detector, `probe`, on the real packaged gemma-3-270m: segments, verdicts, mixed texts,
determinism, and the shipped report against a fresh `veritext eval` of the texts it recorded."""

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lab.corpus import load_corpus, measured_sample
from lab.dataset import LabelledText, split_of
from scorer.detectors.probe import ProbeDetector
from scorer.detectors.registry import PACKAGED_PROBE, report_path
from tests.helpers import labelled_data
from veritext.cli import app

pytestmark = pytest.mark.model


def _test_split(relative: str, label: str, n: int) -> list[str]:
    """The first `n` texts with `label` of the file's test split (never fitted on)."""
    texts = []
    for line in (labelled_data() / relative).read_text(encoding="utf-8").splitlines():
        record = LabelledText.model_validate(json.loads(line))
        if record.label == label and split_of(record) == "test" and len(record.text) > 400:
            texts.append(record.text)
        if len(texts) == n:
            break
    return texts


def test_segments_cover_the_text_and_verdicts_are_consistent(real_detector: ProbeDetector) -> None:
    texts = _test_split("chat/en_detectrl.jsonl", "machine", 2) + _test_split("ru/lenta_news_human.jsonl", "human", 2)
    verdicts = real_detector.score(texts)
    for text, verdict in zip(texts, verdicts, strict=True):
        assert not verdict.too_short and 0.0 <= verdict.probability <= 1.0
        assert verdict.segments[0].start == 0 and verdict.segments[-1].end == len(text)
        assert all(a.end == b.start for a, b in zip(verdict.segments, verdict.segments[1:], strict=False))
        assert all(0.0 <= s.probability <= 1.0 for s in verdict.segments)
        assert sum(s.n_tokens for s in verdict.segments) == verdict.n_tokens
        assert verdict.label in ("human", "mixed", "machine") and verdict.confidence in ("low", "medium", "high")
        threshold = real_detector.model.calibration(verdict.lang).threshold
        if verdict.label != "mixed":
            assert verdict.label == ("machine" if verdict.probability >= threshold else "human")
    assert [v.lang for v in verdicts] == ["en", "en", "ru", "ru"]


def test_in_a_mixed_text_the_machine_part_scores_higher(real_detector: ProbeDetector) -> None:
    pairs = list(
        zip(
            _test_split("chat/en_detectrl.jsonl", "human", 3) + _test_split("ru/lenta_news_human.jsonl", "human", 2),
            _test_split("chat/en_gemini_dataset_build.jsonl", "machine", 3)
            + _test_split("ru/llm_explainer_machine.jsonl", "machine", 2),
            strict=True,
        )
    )
    higher = 0
    for human, machine in pairs:
        text = f"{human}\n\n{machine}"
        [verdict] = real_detector.score([text])
        parts = {True: [0.0, 0], False: [0.0, 0]}  # machine part?: [sum of p * tokens, tokens]
        for segment in verdict.segments:
            in_machine = segment.start >= len(human)
            parts[in_machine][0] += segment.probability * segment.n_tokens
            parts[in_machine][1] += segment.n_tokens
        means = {part: total / max(tokens, 1) for part, (total, tokens) in parts.items()}
        higher += means[True] > means[False]
    assert higher == len(pairs), f"the machine part scored higher in {higher} of {len(pairs)} mixed texts"


def test_scores_repeat_and_do_not_depend_on_the_batch(real_detector: ProbeDetector) -> None:
    texts = _test_split("chat/en_outfox_essays.jsonl", "human", 2) + _test_split("ru/ruatd_llama2.jsonl", "machine", 1)
    first = real_detector.score(texts)
    assert real_detector.score(texts) == first
    alone = [real_detector.score([text])[0] for text in texts]
    for reference, other in zip(first, alone, strict=True):
        assert other.n_tokens == reference.n_tokens and other.probability == pytest.approx(
            reference.probability, abs=2e-3
        )


def test_short_texts_get_the_prior_with_low_confidence(real_detector: ProbeDetector) -> None:
    verdicts = real_detector.score(["Hi", "Thanks a lot!", "Привет, как дела?"])
    for verdict in verdicts:
        assert verdict.too_short and verdict.confidence == "low" and verdict.label == "human"
        assert verdict.probability == real_detector.model.prior
        assert len(verdict.segments) == 1


def test_the_shipped_report_matches_a_fresh_eval_of_its_recorded_texts(real_detector, tmp_path: Path) -> None:
    report = json.loads(report_path(PACKAGED_PROBE).read_text(encoding="utf-8"))
    assert report["detector"] == f"probe@{real_detector.version}"
    recorded = {row["id"]: row["probability"] for row in report["texts"]}
    corpus = [item for item in measured_sample(load_corpus([labelled_data()])) if item.record.id in recorded]
    chosen = corpus[:: max(1, len(corpus) // 24)][:24]
    data = tmp_path / "recorded.jsonl"
    lines = [json.dumps({**item.record.model_dump(), "text": item.text}, ensure_ascii=False) for item in chosen]
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    scores = tmp_path / "scores.csv"
    result = CliRunner().invoke(app, ["eval", str(data), "--scores", str(scores), "--detector", "probe"])
    assert result.exit_code == 0, result.output
    fresh = {row["id"]: float(row["probability"]) for row in csv.DictReader(scores.open(encoding="utf-8"))}
    assert len(fresh) == len(chosen)
    for text_id, probability in fresh.items():
        assert probability == pytest.approx(recorded[text_id], abs=2e-3), text_id


def test_layout_and_look_alike_letters_do_not_move_the_verdict(real_detector: ProbeDetector) -> None:
    """What the detector reads (schemas/reading.py) is the same with paragraph breaks, Markdown markers and
    look-alike letters of the other script; the segments still point into the text as sent."""
    import random

    from lab.attacks import lookalikes, paragraphs

    [human] = _test_split("chat/en_outfox_essays.jsonl", "human", 1)
    [russian] = _test_split("ru/lenta_news_human.jsonl", "human", 1)
    variants = [
        paragraphs(human, random.Random(1)),
        "- **" + human.replace(". ", ".\n\n", 3) + "**",
        lookalikes(human, random.Random(2)),
    ]
    plain, *others = real_detector.score([human, *variants])
    for text, verdict in zip(variants, others, strict=True):
        assert verdict.probability == pytest.approx(plain.probability, abs=1e-4)  # padding: ~1e-6
        assert verdict.segments[0].start == 0 and verdict.segments[-1].end == len(text)
    attacked_ru = lookalikes(russian, random.Random(3))
    [clean, attacked] = real_detector.score([russian, attacked_ru])
    assert attacked_ru != russian and attacked.probability == pytest.approx(clean.probability, abs=1e-4)


def test_each_sentence_long_enough_is_its_own_segment(real_detector: ProbeDetector) -> None:
    text = (
        "I went to the market this morning to buy apples and bread for the week. "
        "The baker told me about his grandson, who has just started school in the city. "
        "It is important to note that a balanced diet offers numerous benefits for overall well-being. "
        "On the way home it started to rain, so I waited under the old bridge for a while."
    )
    [verdict] = real_detector.score([text])
    assert len(verdict.segments) == 4
    assert [text[s.start : s.end].strip()[:6] for s in verdict.segments] == ["I went", "The ba", "It is ", "On the"]
