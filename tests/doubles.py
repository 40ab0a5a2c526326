"""Test doubles for the model, and only the model: used in tests about pipeline mechanics.

Each is loadable as a plug-in detector spec (`tests.doubles:NAME`), so subprocess workers
(`veritext scorer --detector tests.doubles:slow_fixed`) can use them too.
"""

import hashlib
import time
from collections.abc import Sequence

from schemas.errors import DetectorError
from scorer.detectors.base import Verdict

__all__ = ["FixedScoreDetector", "fixed", "slow_fixed"]


def _probability(text: str) -> float:
    """A fixed, text-dependent number in [0, 1): the same text always gets the same score."""
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16) / 2**32


class FixedScoreDetector:
    """Scores every text with a hash of its content. `fail_on` texts raise `DetectorError`;
    `delay_s` sleeps per batch, to make a crash land mid-stream."""

    name = "fixed-double"

    def __init__(self, version: str = "double-1", delay_s: float = 0.0, fail_on: Sequence[str] = ()) -> None:
        self.version = version
        self.delay_s = delay_s
        self.fail_on = set(fail_on)
        self.scored: list[str] = []

    def warmup(self) -> None:
        self.score(["warm up"])

    def score(self, texts: Sequence[str]) -> list[Verdict]:
        if self.fail_on.intersection(texts):
            raise DetectorError("this text makes the double fail")
        time.sleep(self.delay_s)
        self.scored.extend(texts)
        return [
            Verdict(
                probability=_probability(t),
                label="machine" if _probability(t) >= 0.5 else "human",
                n_tokens=len(t.split()),
            )
            for t in texts
        ]


def fixed() -> FixedScoreDetector:
    return FixedScoreDetector()


def slow_fixed() -> FixedScoreDetector:
    return FixedScoreDetector(delay_s=0.2)
