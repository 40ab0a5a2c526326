"""Where a text's segments are: its sentences, merged until each holds enough tokens to be judged.

Per-sentence scores are sums of the per-token statistics over a sentence's tokens (lm_statistics.py
`measure` sums over blocks), so a segment costs nothing beyond the document's own forward pass.

- **Sentences** come from `sentencex` (Wikimedia's rule-based segmenter, English and Russian among
  ~300 languages); its pieces concatenate back to the text, so their character spans cover it.
- **Tokens to sentences.** A token belongs to the sentence its first character is in; a sentence
  boundary becomes a block bound in token indices.
- **Merging.** A sentence of a few tokens says almost nothing, so consecutive sentences are merged until
  a segment counts at least `min_tokens` tokens; a short remainder joins the segment before it. The
  opening `skip` tokens are context and counted by no segment: the first segment starts at character 0
  and at token `skip`.
- **Cover.** The segments' character spans are contiguous and cover the whole text, [0, len(text)).
"""

import bisect
import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import sentencex

__all__ = ["SegmentPlan", "merge_sentences", "plan_segments", "sentence_ends"]


@dataclass(frozen=True)
class SegmentPlan:
    """Token bounds of the segments (block bounds for `LMStatistics.measure`) and their character spans."""

    bounds: list[int]  # len(spans) + 1 increasing token indices, the first one `skip` (or the text's end)
    spans: list[tuple[int, int]]  # character [start, end) of each segment


def sentence_ends(text: str, lang: str) -> list[int]:
    """Character positions where each sentence of `text` ends (the last is len(text))."""
    ends: list[int] = []
    at = 0
    for sentence in sentencex.segment(lang if lang in ("en", "ru") else "en", text):
        at += len(sentence)
        if sentence.strip() or not ends:
            ends.append(at)
        else:  # a piece of bare whitespace (a blank line) joins the sentence before it
            ends[-1] = at
    if not ends or ends[-1] != len(text):
        ends.append(len(text))
    return ends


def plan_segments(
    text: str, offsets: Sequence[tuple[int, int]], lang: str, *, skip: int, min_tokens: int
) -> SegmentPlan:
    """The segments of `text` whose tokens have character `offsets`; see the module docstring."""
    n = len(offsets)
    first = min(skip, n)
    starts = [start for start, _ in offsets]
    cuts: dict[int, int] = {}  # token index -> character position of a sentence boundary there
    for end in sentence_ends(text, lang)[:-1]:
        token = bisect.bisect_left(starts, end)
        if first < token < n:
            cuts.setdefault(token, end)
    bounds = merge_sentences(sorted(cuts), first, n, min_tokens)
    chars = [0, *(cuts[token] for token in bounds[1:-1]), len(text)]
    return SegmentPlan(bounds, list(itertools.pairwise(chars)))


def merge_sentences(sentence_tokens: Sequence[int], first: int, n: int, min_tokens: int) -> list[int]:
    """Segment bounds in token indices from the token indices where sentences end (increasing, inside
    (first, n)): sentences merged until a segment counts `min_tokens`, a short tail joined to the one
    before it; the first bound is `first`, the last `n`."""
    bounds = [first]
    for token in sentence_tokens:
        if first < token < n and token - bounds[-1] >= min_tokens:
            bounds.append(token)
    if len(bounds) > 1 and n - bounds[-1] < min_tokens:  # a short tail joins the segment before it
        bounds.pop()
    return [*bounds, n]
