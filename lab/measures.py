"""A disk cache of what one forward pass measures on a labelled text, for fitting and judging detectors.

The model pass is the slow part of every experiment (about a text a second on two CPU cores), and the
same texts are read again and again: with each feature set, each held-out fold, each length. So each
text is measured once, into `BlockSums` (lm_statistics.py) over fixed blocks of its tokens:

- block bounds at the token positions `CUT_TOKENS`, where its 25th, 50th, 100th and 200th word end
  (`WORD_CUTS`), where each of its sentences ends (segments.py `sentence_ends`) and its end; every
  token is counted from position 0, so a feature can start after any opening (0, 8, 16 or 24 tokens),
  stop at any length and cover any run of sentences, summed from whole blocks;
- the hidden states of `CACHE_LAYERS` (float32 sums: gemma's residual stream has a few dimensions in
  the thousands, which overflow float16), read from the model cut after the deepest of them as the
  probe detector runs it; no output head, so the likelihood statistics are zeros.

Texts are measured as the detector reads them (schemas/reading.py): the corpus holds the readings.

One `.npz` file per text (named by the SHA-256 of the text) under a folder named by the model setup, so
an interrupted run keeps what it measured and a changed setup never reads stale numbers. The live scorer
does not use it.
"""

import bisect
import hashlib
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from scorer.detectors.language import detect_language
from scorer.detectors.lm_statistics import N_STATS, LMStatistics, TextStatistics
from scorer.detectors.segments import sentence_ends

__all__ = ["CACHE_LAYERS", "CUT_TOKENS", "DEFAULT_MEASURES", "WORD_CUTS", "Measure", "MeasureCache"]

log = logging.getLogger(__name__)

DEFAULT_MEASURES = Path("~/.cache/veritext/measures").expanduser()
CACHE_LAYERS = (6, 9, 12)
CUT_TOKENS = (0, 8, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512)
WORD_CUTS = (25, 50, 100, 200)
_WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class Measure:
    """The block sums of one text, and where its first `WORD_CUTS` words end (in tokens)."""

    n_tokens: int
    bounds: np.ndarray  # (blocks + 1,) token positions
    counts: np.ndarray  # (blocks,)
    stats: np.ndarray  # (blocks, N_STATS)
    states: np.ndarray  # (blocks, len(CACHE_LAYERS) * hidden) float32
    word_ends: dict[int, int]  # words -> tokens covering them; only for texts that long
    sentence_ends: np.ndarray  # token position where each sentence ends (the last is n_tokens)

    def span(self, start: int, end: int | None = None) -> tuple[TextStatistics, np.ndarray]:
        """Statistics and summed probe states of tokens [start, end); both must be block bounds."""
        end = self.n_tokens if end is None else min(end, self.n_tokens)
        first, last = self._block(start), self._block(end)
        stats = TextStatistics(int(self.counts[first:last].sum()), *self.stats[first:last].sum(axis=0).tolist())
        return stats, self.states[first:last].astype(np.float64).sum(axis=0)

    def _block(self, position: int) -> int:
        index = int(np.searchsorted(self.bounds, position))
        if index >= len(self.bounds) or self.bounds[index] != position:
            raise ValueError(f"token position {position} is not a block bound ({self.bounds.tolist()})")
        return index


class MeasureCache:
    def __init__(self, statistics: LMStatistics, cache_dir: Path = DEFAULT_MEASURES) -> None:
        if statistics.probe_layers != CACHE_LAYERS:
            raise ValueError(f"the cache keeps layers {CACHE_LAYERS}, the statistics read {statistics.probe_layers}")
        performer = statistics.performer.model_id if statistics.performer else "-"
        setup = [statistics.model.model_id, performer, statistics.window, statistics.head_dtype, N_STATS]
        setup += [CACHE_LAYERS, CUT_TOKENS, WORD_CUTS, "sentences", statistics.with_head]
        key = hashlib.sha256("|".join(map(str, setup)).encode()).hexdigest()[:16]
        self._statistics = statistics
        self.folder = Path(cache_dir).expanduser() / f"measures-{key}"

    def _path(self, text: str) -> Path:
        sha = hashlib.sha256(text.encode()).hexdigest()
        return self.folder / sha[:2] / f"{sha}.npz"

    def has(self, text: str) -> bool:
        return self._path(text).exists()

    def get(self, text: str) -> Measure:
        with np.load(self._path(text)) as data:
            words = data["word_ends"]
            return Measure(
                n_tokens=int(data["bounds"][-1]),
                bounds=data["bounds"],
                counts=data["counts"],
                stats=data["stats"],
                states=data["states"],
                word_ends={int(w): int(t) for w, t in words},
                sentence_ends=data["sentence_ends"],
            )

    def measure(
        self, texts: Sequence[str], batch_size: int = 16, progress: Callable[[int], None] = lambda n: None
    ) -> None:
        """Measure the texts not cached yet, in batches of similar length; `progress(n)` after each n."""
        missing = list(dict.fromkeys(t for t in texts if not self.has(t)))
        progress(len(texts) - len(missing))
        for start in range(0, len(missing), batch_size * 16):  # keep the given order, coarsely
            chunk = sorted(missing[start : start + batch_size * 16], key=len)
            for at in range(0, len(chunk), batch_size):
                batch = chunk[at : at + batch_size]
                tokenized = [self._statistics.tokenize(text) for text in batch]
                ends = [_word_ends(text, tokens.offsets) for text, tokens in zip(batch, tokenized, strict=True)]
                sentences = [_sentence_tokens(text, t.offsets) for text, t in zip(batch, tokenized, strict=True)]
                bounds = [
                    _bounds(len(tokens), [*words.values(), *ends_at])
                    for tokens, words, ends_at in zip(tokenized, ends, sentences, strict=True)
                ]
                measured = self._statistics.measure(tokenized, bounds)
                for text, words, ends_at, sums in zip(batch, ends, sentences, measured, strict=True):
                    self._save(text, sums.bounds, sums.counts, sums.stats, sums.states, words, ends_at)
                progress(len(batch))

    def _save(self, text: str, bounds, counts, stats, states, words: dict[int, int], sentences: list[int]) -> None:
        path = self._path(text)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial.npz")
        np.savez(
            partial,
            bounds=np.asarray(bounds, dtype=np.int64),
            counts=counts,
            stats=stats,
            states=states.astype(np.float32),
            word_ends=np.asarray(sorted(words.items()), dtype=np.int64).reshape(-1, 2),
            sentence_ends=np.asarray(sentences, dtype=np.int64),
        )
        partial.rename(path)


def _word_ends(text: str, offsets: Sequence[tuple[int, int]]) -> dict[int, int]:
    """For each of `WORD_CUTS` the text reaches: how many tokens cover its first that many words."""
    starts = [start for start, _ in offsets]
    ends, count = {}, 0
    for count, match in enumerate(_WORD.finditer(text), 1):
        if count in WORD_CUTS:
            ends[count] = bisect.bisect_left(starts, match.end())
    return ends


def _sentence_tokens(text: str, offsets: Sequence[tuple[int, int]]) -> list[int]:
    """The token position where each sentence of `text` ends (a token belongs to the sentence its first
    character is in, as segments.py has it); the last is the number of tokens."""
    starts = [start for start, _ in offsets]
    ends = {bisect.bisect_left(starts, end) for end in sentence_ends(text, detect_language(text))[:-1]}
    return [*sorted(e for e in ends if 0 < e < len(offsets)), len(offsets)]


def _bounds(n_tokens: int, cuts: Sequence[int]) -> list[int]:
    points = sorted({p for p in (*CUT_TOKENS, *cuts) if p < n_tokens} | {0, n_tokens})
    return points if len(points) > 1 else [0, 0]
