"""The detector interface the scoring worker depends on.

A detector has a name and a version (the version changes whenever its model or calibration
changes, and every score records it). Loading does the I/O; `score` takes already-validated
texts and returns one `Verdict` per text, same length, same order. It raises `DetectorError`
when it cannot score the batch, so the worker can isolate the bad text.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from schemas.events import Confidence, Label, Segment

__all__ = ["Detector", "Verdict"]


@dataclass(frozen=True)
class Verdict:
    """A detector's answer for one text."""

    probability: float  # probability that a machine wrote the text, in [0, 1]
    label: Label  # the label at the detector's operating point
    n_tokens: int  # tokens the model actually read
    lang: str | None = None  # the language the detector found ("en", "ru", "other")
    too_short: bool = False  # too few tokens to judge; the probability is the prior
    confidence: Confidence | None = None  # how sure the label is, for detectors that say
    segments: tuple[Segment, ...] = ()  # per-sentence scores covering the text, for detectors that give them


class Detector(Protocol):
    name: str
    version: str

    def warmup(self) -> None:
        """Run one small real batch so memory or device problems show before traffic arrives."""

    def score(self, texts: Sequence[str]) -> list[Verdict]:
        """Score a batch; same length and order as `texts`."""
