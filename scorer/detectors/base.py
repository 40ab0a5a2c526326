"""The detector interface the scoring worker depends on.

A detector has a name and a version (the version changes whenever its model or calibration
changes, and every score records it). Loading does the I/O; `score` takes already-validated
texts and returns one `Verdict` per text, same length, same order. It raises `DetectorError`
when it cannot score the batch, so the worker can isolate the bad text.

A `PreparingDetector` also splits `score` in two: `prepare` does a batch's host-side work (tokenising,
language identification, segment plans) and `score_prepared` runs the model on what it made, so the
scorer prepares the next batch while the model runs this one (`stages`). A detector that does not split
(a plug-in, a test double) is scored whole in the model's stage.
"""

from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

from schemas.verdict import Verdict

__all__ = ["Detector", "PreparingDetector", "stages"]


class Detector(Protocol):
    name: str
    version: str

    def warmup(self) -> None:
        """Run one small real batch so memory or device problems show before traffic arrives."""

    def score(self, texts: Sequence[str]) -> list[Verdict]:
        """Score a batch; same length and order as `texts`."""


@runtime_checkable
class PreparingDetector(Detector, Protocol):
    def prepare(self, texts: Sequence[str]) -> list[Any]:
        """What the model needs of each text, made on the host: same length and order as `texts`."""

    def score_prepared(self, prepared: Sequence[Any]) -> list[Verdict]:
        """Score prepared texts (any run of `prepare`'s items); `score(texts)` is
        `score_prepared(prepare(texts))`."""


def stages(detector: Detector) -> tuple[Callable[[Sequence[str]], list[Any]], Callable[[Sequence[Any]], list[Verdict]]]:
    """`detector`'s (prepare, score prepared) pair; for a detector that does not split, (list, score)."""
    if isinstance(detector, PreparingDetector):
        return detector.prepare, detector.score_prepared
    return list, detector.score
