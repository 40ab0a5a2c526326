"""Score a batch so that one bad text never sinks its neighbours.

If the detector raises on a batch, the batch is split in halves and each half retried; a text
that fails alone is returned as failed, for the caller to dead-letter.
"""

from collections.abc import Sequence
from typing import TypeVar

from schemas.errors import DetectorError
from scorer.detectors.base import Detector, Verdict

__all__ = ["score_isolating"]

T = TypeVar("T")


def score_isolating(
    detector: Detector, items: Sequence[T], texts: Sequence[str]
) -> tuple[list[tuple[T, Verdict]], list[tuple[T, str]]]:
    """Returns (scored items with their verdicts, failed items with the reason)."""
    try:
        verdicts = detector.score(texts)
    except DetectorError as exc:
        if len(items) == 1:
            return [], [(items[0], str(exc))]
        mid = len(items) // 2
        left = score_isolating(detector, items[:mid], texts[:mid])
        right = score_isolating(detector, items[mid:], texts[mid:])
        return left[0] + right[0], left[1] + right[1]
    if len(verdicts) != len(items):
        raise DetectorError(f"{detector.name} returned {len(verdicts)} verdicts for {len(items)} texts")
    return list(zip(items, verdicts, strict=True)), []
