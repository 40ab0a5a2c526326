"""What the probe is fitted on besides the corpus (no model): copies with typos of both labels, fitted on
and never judged, and co-written texts whose segments are labelled by the passage they lie in."""

import random

import numpy as np

from lab.attacks import misspell, typos
from lab.corpus import GENRE_OF, CorpusText, family_of, with_typos
from lab.cowritten import cowritten_texts, labelled_segments
from lab.dataset import LabelledText
from lab.folds import held_out_folds
from lab.measures import Measure
from scorer.detectors.segments import sentence_ends

HUMAN = (
    "I walked to the market on Sunday morning. The stalls were half empty because of the rain. "
    "A woman sold me apples from her own garden. We talked about her grandchildren for a while. "
    "Then I bought bread and went home through the park."
)
MACHINE = (
    "Regular physical activity offers numerous benefits for overall health. It strengthens the heart "
    "and improves circulation. Additionally, exercise can enhance mood and reduce stress levels. "
    "Experts recommend at least thirty minutes of moderate activity each day. Ultimately, consistency "
    "is the key to lasting results."
)


def _corpus(n: int = 120) -> list[CorpusText]:
    items = []
    for i in range(n):
        label = "machine" if i % 2 else "human"
        generator = "gpt-4o" if label == "machine" else None
        text = f"{MACHINE if label == 'machine' else HUMAN} Note {i}."
        record = LabelledText(text=text, label=label, lang="en", domain="xsum", generator=generator, id=f"t{i}")
        items.append(CorpusText(record, text, "xsum", GENRE_OF[("en", "xsum")], family_of(generator)))
    return items


def test_typos_differ_from_the_benchmarks_misspellings_and_keep_the_words_apart_mostly() -> None:
    rng = random.Random(3)
    typed = typos(HUMAN, rng, share=0.3)
    assert typed != HUMAN and typed != misspell(HUMAN, random.Random(3), share=0.3)
    assert abs(len(typed.split()) - len(HUMAN.split())) <= len(HUMAN.split()) // 2


def test_copies_with_typos_come_from_the_training_split_and_are_never_judged() -> None:
    corpus = _corpus()
    augmented = with_typos(corpus)
    copies = augmented[len(corpus) :]
    assert copies and all(item.augmented and item.split == "train" for item in copies)
    assert {item.record.label for item in copies} == {"human", "machine"}
    assert sum(copy.text != copy.record.text for copy in copies) >= 0.9 * len(copies)
    for fold in held_out_folds(augmented):
        judged = [item for item, keep in zip(augmented, fold.judge, strict=True) if keep]
        assert not any(item.augmented for item in judged), fold.name


def _measure(text: str) -> Measure:
    """A measure whose tokens are the text's characters, in blocks at its sentence ends."""
    ends = sentence_ends(text, "en")
    bounds = np.array([0, *ends])
    blocks = len(bounds) - 1
    return Measure(len(text), bounds, np.diff(bounds), np.zeros((blocks, 7)), np.zeros((blocks, 3)), {}, np.array(ends))


def test_cowritten_segments_are_labelled_by_their_passage() -> None:
    corpus = _corpus()
    made = cowritten_texts(corpus)
    assert made and {item.machine_first for item in made} == {True, False}
    measures = {item.text: _measure(item.text) for item in made}
    for item in made:
        join = int(measures[item.text].sentence_ends[item.boundary - 1])
        assert item.text[:join].startswith(MACHINE[:40]) == item.machine_first
        assert item.text[join:].strip().startswith(MACHINE[:40]) != item.machine_first
        for _, start, end, machine in labelled_segments([item], measures, skip_tokens=0, segment_tokens=1):
            assert end <= join or start >= join, "a segment across the join is left out"
            assert machine == (item.machine_first if end <= join else not item.machine_first)
