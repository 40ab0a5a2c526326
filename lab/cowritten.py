"""Co-written texts for fitting the segment model: a human passage and a machine passage of the training
split joined (lab/attacks.py `cowrite`, both orders, the same language, any genres), each sentence
labelled by the passage it belongs to.

Segments of whole texts, each labelled as its text, teach the segment model what a machine text's
sentence looks like, but never a machine sentence next to a human one, which is what a co-written text
is; these add that. A text is kept only when its sentences split at the join exactly as its passages'
sentences do alone (so the join is a known sentence end), and a segment that straddles the join is
left out. Measured by the measure cache like every corpus text; fitted on, never judged (the benchmark
builds its co-written texts from the test split).
"""

import hashlib
import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from lab.attacks import cowrite
from lab.corpus import Corpus
from lab.measures import Measure
from scorer.detectors.language import detect_language
from scorer.detectors.segments import merge_sentences, sentence_ends

__all__ = ["CoWritten", "cowritten_texts", "labelled_segments"]

PER_LANGUAGE = 400  # co-written texts per language at most
WORDS = 90  # words of each passage, about


@dataclass(frozen=True)
class CoWritten:
    text: str  # as the detector reads it: two readings joined by a space
    lang: str
    boundary: int  # the number of sentences of the first passage
    sentences: int  # the number of sentences of the text
    machine_first: bool


def cowritten_texts(corpus: Corpus) -> list[CoWritten]:
    """Up to `PER_LANGUAGE` co-written texts per language from the training split, in a fixed order."""
    made = []
    for lang in ("en", "ru"):
        train = [item for item in corpus if item.split == "train" and not item.augmented and item.record.lang == lang]
        humans = sorted((item for item in train if not item.machine), key=lambda item: _hash(item.text))
        machines = sorted((item for item in train if item.machine), key=lambda item: _hash(item.text))
        count = 0
        for human, machine in zip(itertools.cycle(humans), machines, strict=False):
            if count == PER_LANGUAGE:
                break
            machine_first = int(_hash(machine.text)[:2], 16) % 2 == 0
            text, (start, end) = cowrite(human.text, machine.text, lang, machine_first=machine_first, words=WORDS)
            first = text[:end] if machine_first else text[: start - 1]
            boundary = len(sentence_ends(first, lang))
            ends = sentence_ends(text, detect_language(text))
            if boundary >= len(ends) or ends[boundary - 1] not in (len(first), len(first) + 1):
                continue  # the sentences do not split at the join
            made.append(CoWritten(text, lang, boundary, len(ends), machine_first))
            count += 1
    return made


def labelled_segments(
    items: Sequence[CoWritten], measures: dict[str, Measure], skip_tokens: int, segment_tokens: int
) -> list[tuple[Measure, int, int, bool]]:
    """(measure, start, end, machine) of every segment that lies wholly in one passage."""
    found = []
    for item in items:
        measure = measures[item.text]
        if len(measure.sentence_ends) != item.sentences:
            continue  # two sentence ends fell on one token: the join is not known in tokens
        ends = measure.sentence_ends[:-1]
        join = int(ends[item.boundary - 1])
        bounds = merge_sentences(ends.tolist(), skip_tokens, measure.n_tokens, segment_tokens)
        for start, end in itertools.pairwise(bounds):
            if end <= join:
                found.append((measure, start, end, item.machine_first))
            elif start >= join:
                found.append((measure, start, end, not item.machine_first))
    return found


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
