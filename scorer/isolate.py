"""Score a batch so that one bad text never sinks its neighbours.

If the detector raises on a batch, the batch is split in halves and each half retried; a text
that fails alone is returned as failed, for the caller to dead-letter. `score` is a detector's
`score` or its `score_prepared` (scorer/detectors/base.py `stages`), `inputs` what it takes.
"""

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from schemas.errors import DetectorError
from schemas.verdict import Verdict

__all__ = ["score_isolating"]

T = TypeVar("T")


def score_isolating(
    score: Callable[[Sequence[Any]], list[Verdict]], items: Sequence[T], inputs: Sequence[Any], name: str
) -> tuple[list[tuple[T, Verdict]], list[tuple[T, str]]]:
    """Returns (scored items with their verdicts, failed items with the reason); `name` names the
    detector in the error a wrong number of verdicts raises."""
    try:
        verdicts = score(inputs)
    except DetectorError as exc:
        if len(items) == 1:
            return [], [(items[0], str(exc))]
        mid = len(items) // 2
        left = score_isolating(score, items[:mid], inputs[:mid], name)
        right = score_isolating(score, items[mid:], inputs[mid:], name)
        return left[0] + right[0], left[1] + right[1]
    if len(verdicts) != len(items):
        raise DetectorError(f"{name} returned {len(verdicts)} verdicts for {len(items)} texts")
    return list(zip(items, verdicts, strict=True)), []
