"""Test doubles for the model, and only the model: used in tests about pipeline mechanics.

Each is loadable as a plug-in detector spec (`tests.doubles:NAME`), so subprocess workers
(`veritext scorer --detector tests.doubles:slow_fixed`) can use them too.
"""

import hashlib
import re
import threading
import time
from collections.abc import Sequence

from schemas.errors import DetectorError
from schemas.verdict import Segment, Verdict

__all__ = [
    "FixedScoreDetector",
    "PreparingScoreDetector",
    "SentenceScoreDetector",
    "fixed",
    "fixed_v2",
    "sentences_fixed",
    "slow_fixed",
]


def _probability(text: str, salt: str = "") -> float:
    """A fixed, text-dependent number in [0, 1): the same text always gets the same score."""
    return int(hashlib.sha256((salt + text).encode()).hexdigest()[:8], 16) / 2**32


class FixedScoreDetector:
    """Scores every text with a hash of its content (and of `salt`, so two versions can disagree).
    `fail_on` texts raise `DetectorError`; `delay_s` sleeps per batch, to make a crash land mid-stream."""

    name = "fixed-double"

    def __init__(
        self, version: str = "double-1", delay_s: float = 0.0, fail_on: Sequence[str] = (), salt: str = ""
    ) -> None:
        self.version = version
        self.delay_s = delay_s
        self.fail_on = set(fail_on)
        self.salt = salt
        self.scored: list[str] = []
        self.batches: list[int] = []  # how many texts each call scored

    def warmup(self) -> None:
        self.score(["warm up"])

    def score(self, texts: Sequence[str]) -> list[Verdict]:
        if self.fail_on.intersection(texts):
            raise DetectorError("this text makes the double fail")
        time.sleep(self.delay_s)
        self.scored.extend(texts)
        self.batches.append(len(texts))
        return [
            Verdict(
                probability=_probability(t, self.salt),
                label="machine" if _probability(t, self.salt) >= 0.5 else "human",
                n_tokens=len(t.split()),
            )
            for t in texts
        ]


def fixed() -> FixedScoreDetector:
    return FixedScoreDetector()


def fixed_v2() -> FixedScoreDetector:
    """A second version of the double, with different scores: what a replay re-scores with."""
    return FixedScoreDetector(version="double-2", salt="v2")


def slow_fixed() -> FixedScoreDetector:
    return FixedScoreDetector(delay_s=0.2)


def crawling_fixed() -> FixedScoreDetector:
    """The double at one second a batch: texts stay unscored long enough for a crash to catch them."""
    return FixedScoreDetector(delay_s=1.0)


class SentenceScoreDetector(FixedScoreDetector):
    """The double with per-sentence segments (split after `.`, `!` or `?`), each scored by its own hash:
    what the pages and the bot show sentence by sentence."""

    def __init__(self) -> None:
        super().__init__(version="sentences-1")

    def score(self, texts: Sequence[str]) -> list[Verdict]:
        verdicts = []
        for verdict, text in zip(super().score(texts), texts, strict=True):
            spans = [m.span() for m in re.finditer(r"[^.!?]+[.!?]*\s*", text)]
            segments = [
                Segment(start=a, end=b, probability=_probability(text[a:b]), n_tokens=len(text[a:b].split()))
                for a, b in spans
            ]
            too_short = verdict.n_tokens < 5
            verdicts.append(
                Verdict(
                    probability=0.5 if too_short else verdict.probability,
                    label="human" if too_short else verdict.label,
                    n_tokens=verdict.n_tokens,
                    too_short=too_short,
                    confidence="low" if too_short else "medium",
                    segments=segments,
                )
            )
        return verdicts


def sentences_fixed() -> SentenceScoreDetector:
    return SentenceScoreDetector()


class PreparingScoreDetector(FixedScoreDetector):
    """The double split into a host stage and a model stage (a PreparingDetector), each taking
    `delay_s`, with when and on which thread each ran: what the pipelined scorer overlaps."""

    def __init__(self, delay_s: float) -> None:
        super().__init__(version="preparing-1", delay_s=delay_s)
        self.prepared: list[tuple[float, float, str]] = []  # (start, end, thread name) of each prepare
        self.modelled: list[tuple[float, float, str]] = []  # the same for each score_prepared

    def prepare(self, texts: Sequence[str]) -> list[str]:
        started = time.monotonic()
        time.sleep(self.delay_s)
        self.prepared.append((started, time.monotonic(), threading.current_thread().name))
        return [f"prepared:{t}" for t in texts]

    def score_prepared(self, prepared: Sequence[str]) -> list[Verdict]:
        started = time.monotonic()
        verdicts = self.score([p.removeprefix("prepared:") for p in prepared])
        self.modelled.append((started, time.monotonic(), threading.current_thread().name))
        return verdicts
