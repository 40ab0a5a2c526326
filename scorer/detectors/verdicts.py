"""From probabilities to the verdict users read: a label (human | mixed | machine) and a confidence.

- **Label.** "machine" when the document's probability reaches the operating threshold of its language,
  else "human", unless the segments disagree strongly: when at least `MIXED_SHARE` of the counted tokens
  (and `MIXED_TOKENS` or more) lie in segments at or above the segment threshold, and as much in
  segments at or below `HUMAN_SEGMENT`, the text is "mixed" (a human paragraph and a machine one, say).
- **Confidence.** "low" when the text is too short to judge, reads fewer than `LOW_TOKENS` counted
  tokens, is mixed, or is labelled human with a probability from `UNSURE_FROM` up to the threshold (the
  grey zone: 89% of the test-split texts there were machine); "high" when it reads at
  least `HIGH_TOKENS` tokens and its probability is at least `SURE_MACHINE` (machine) or at most
  `SURE_HUMAN` (human: no machine text of the test split scored that low); "medium" otherwise.
"""

from collections.abc import Sequence

from schemas.events import Confidence, Label, Segment

__all__ = ["confidence_of", "label_of"]

MIXED_SHARE = 0.25
MIXED_TOKENS = 40
HUMAN_SEGMENT = 0.2
LOW_TOKENS = 48
HIGH_TOKENS = 128
UNSURE_FROM = 0.3
SURE_MACHINE = 0.97
SURE_HUMAN = 0.05


def label_of(
    probability: float, threshold: float, segments: Sequence[Segment], segment_threshold: float | None = None
) -> Label:
    segment_threshold = threshold if segment_threshold is None else segment_threshold
    counted = sum(s.n_tokens for s in segments)
    machine = sum(s.n_tokens for s in segments if s.probability >= segment_threshold)
    human = sum(s.n_tokens for s in segments if s.probability <= HUMAN_SEGMENT)
    if counted and min(machine, human) >= max(MIXED_SHARE * counted, MIXED_TOKENS):
        return "mixed"
    return "machine" if probability >= threshold else "human"


def confidence_of(probability: float, threshold: float, label: Label, n_tokens: int, too_short: bool) -> Confidence:
    grey = label == "human" and UNSURE_FROM <= probability < threshold
    if too_short or label == "mixed" or n_tokens < LOW_TOKENS or grey:
        return "low"
    sure = probability >= SURE_MACHINE if label == "machine" else probability <= SURE_HUMAN
    return "high" if sure and n_tokens >= HIGH_TOKENS else "medium"
