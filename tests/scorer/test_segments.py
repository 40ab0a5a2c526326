"""Segments and verdict rules: pure functions, no model."""

import pytest

from schemas.verdict import Segment
from scorer.detectors.segments import plan_segments, sentence_ends
from scorer.detectors.verdicts import confidence_of, label_of


def _offsets(text: str) -> list[tuple[int, int]]:
    """One token per word (with its leading space), as a sentencepiece tokenizer would cut it."""
    spans, start = [], 0
    for word in text.split(" "):
        end = start + len(word) + (1 if start else 0)
        spans.append((start, end))
        start = end
    return spans


TEXT = "One two three four. Five six seven eight nine. Ten eleven twelve. Thirteen fourteen fifteen sixteen."


def test_sentence_ends_cover_the_text() -> None:
    ends = sentence_ends(TEXT, "en")
    assert ends[-1] == len(TEXT)
    assert ends == sorted(ends)
    assert len(ends) == 4
    russian = "Первое предложение. Второе предложение!\n\nТретье?"
    assert sentence_ends(russian, "ru")[-1] == len(russian)
    assert len(sentence_ends(russian, "ru")) == 3


@pytest.mark.parametrize("skip, min_tokens", [(0, 1), (0, 5), (2, 5), (4, 100), (20, 3)])
def test_segments_cover_the_text_and_the_counted_tokens(skip: int, min_tokens: int) -> None:
    offsets = _offsets(TEXT)
    plan = plan_segments(TEXT, offsets, "en", skip=skip, min_tokens=min_tokens)
    assert plan.bounds[0] == min(skip, len(offsets))
    assert plan.bounds[-1] == len(offsets)
    assert plan.bounds == sorted(plan.bounds)
    assert len(plan.spans) == len(plan.bounds) - 1
    assert plan.spans[0][0] == 0 and plan.spans[-1][1] == len(TEXT)
    assert all(a[1] == b[0] for a, b in zip(plan.spans, plan.spans[1:], strict=False))
    counted = [b - a for a, b in zip(plan.bounds, plan.bounds[1:], strict=False)]
    if len(counted) > 1:
        assert min(counted) >= min_tokens


def test_short_sentences_are_merged_and_boundaries_follow_sentences() -> None:
    offsets = _offsets(TEXT)
    every = plan_segments(TEXT, offsets, "en", skip=0, min_tokens=1)
    assert [TEXT[a:b].strip() for a, b in every.spans][1] == "Five six seven eight nine."
    merged = plan_segments(TEXT, offsets, "en", skip=0, min_tokens=6)
    assert len(merged.spans) < len(every.spans)
    assert all(TEXT[a:b].strip().endswith(".") for a, b in merged.spans)


def _segments(*parts: tuple[float, int]) -> list[Segment]:
    return [Segment(start=i, end=i + 1, probability=p, n_tokens=n) for i, (p, n) in enumerate(parts)]


def test_label_is_mixed_only_when_large_parts_disagree() -> None:
    assert label_of(0.6, 0.8, _segments((0.95, 100), (0.05, 100)), 0.7) == "mixed"
    assert label_of(0.9, 0.8, _segments((0.95, 100), (0.9, 100)), 0.7) == "machine"
    assert label_of(0.1, 0.8, _segments((0.05, 100), (0.1, 100)), 0.7) == "human"
    assert label_of(0.9, 0.8, _segments((0.95, 190), (0.05, 10)), 0.7) == "machine"  # a small dissent is no mix
    assert label_of(0.5, 0.8, _segments((0.95, 20), (0.05, 20)), 0.7) == "human"  # too few tokens either way


def test_a_machine_passage_makes_a_mix_and_lone_sentences_do_not() -> None:
    passage = _segments(*[(0.9, 25)] * 4, *[(0.1, 25)] * 4)
    assert label_of(0.5, 0.8, passage, 0.7) == "mixed"
    lone = _segments((0.1, 20), (0.9, 30), (0.1, 20), (0.1, 20), (0.9, 30), (0.1, 20), (0.1, 20), (0.1, 20))
    assert label_of(0.3, 0.8, lone, 0.7) == "human", "two sentences that read machine among human ones"


def test_confidence_follows_length_and_margin() -> None:
    assert confidence_of(0.99, 0.8, "machine", 300, too_short=False) == "high"
    assert confidence_of(0.99, 0.8, "machine", 60, too_short=False) == "medium"
    assert confidence_of(0.85, 0.8, "machine", 300, too_short=False) == "medium"
    assert confidence_of(0.01, 0.8, "human", 300, too_short=False) == "high"
    assert confidence_of(0.15, 0.8, "human", 300, too_short=False) == "medium"
    assert confidence_of(0.5, 0.8, "human", 300, too_short=False) == "low"  # the grey zone below the line
    assert confidence_of(0.5, 0.8, "human", 10, too_short=True) == "low"
    assert confidence_of(0.6, 0.8, "mixed", 300, too_short=False) == "low"
