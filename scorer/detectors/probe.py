"""The default detector: a linear probe of the hidden states (beside likelihood features, when the
artifact names them), one forward pass.

For each text of a batch:

1. what the model reads of it (schemas/reading.py: no layout, no look-alike letters), that reading's
   tokens with character offsets, its language (language.py) and its segments (segments.py), whose
   character spans are mapped back to the stored text;
2. one forward pass over all texts (lm_statistics.py `measure`), summing the per-token statistics and
   the probe layers' states over each segment;
3. the document's probability from the sums over all segments, and each segment's from its own sums,
   the document's by the artifact's linear model (probe_model.py), each segment's by its segment model
   (fitted on sentences), each calibrated (per language where the artifact has one; the shipped one
   pools them);
4. the label (human | mixed | machine) and the confidence (verdicts.py).

Texts with fewer than `min_tokens` counted tokens are too short to judge: they get the stated prior
as their probability, the label "human" (no evidence, so no accusation), confidence "low" and
`too_short=True`, with one segment covering the text.

Step 1 is `prepare` (host-side work the scorer does for the next batch while the model runs this one),
steps 2 to 4 `score_prepared`.

The version names the scoring model and hashes the artifact (which names the model, window, layers and
features), so any change to a probability changes the version every score records; arithmetic other
than CPU fp32 (a GPU's bfloat16) adds its tag (packaged.py `versioned`).
"""

import itertools
from collections.abc import Sequence
from typing import NamedTuple

from schemas.reading import read_text
from schemas.verdict import Segment, Verdict
from scorer.detectors.language import detect_language
from scorer.detectors.lm_statistics import BlockSums, LMStatistics, Tokenized
from scorer.detectors.packaged import artifact_version, versioned
from scorer.detectors.probe_model import ProbeModel, design_row
from scorer.detectors.segments import SegmentPlan, plan_segments
from scorer.detectors.verdicts import confidence_of, label_of

__all__ = ["ProbeDetector", "probe_version"]


def probe_version(model: ProbeModel, numerics: str) -> str:
    return versioned(artifact_version(model.model, "probe", model.sha256), numerics)


class PreparedText(NamedTuple):
    tokens: Tokenized
    lang: str
    plan: SegmentPlan


class ProbeDetector:
    name = "probe"

    def __init__(self, statistics: LMStatistics, model: ProbeModel) -> None:
        if tuple(model.layers) != statistics.probe_layers or model.skip_tokens >= statistics.window - 1:
            raise ValueError(f"the probe model reads layers {model.layers}, the statistics {statistics.probe_layers}")
        self._statistics = statistics
        self.model = model
        self.version = probe_version(model, statistics.numerics)

    def warmup(self) -> None:
        self.score(["A short text to check that the model runs on this device, in a few more words."])

    def score(self, texts: Sequence[str]) -> list[Verdict]:
        return self.score_prepared(self.prepare(texts))

    def prepare(self, texts: Sequence[str]) -> list[PreparedText]:
        prepared = []
        for text in texts:
            reading = read_text(text)
            tokens, lang = self._statistics.tokenize(reading.text), detect_language(reading.text)
            plan = plan_segments(
                reading.text, tokens.offsets, lang, skip=self.model.skip_tokens, min_tokens=self.model.segment_tokens
            )
            cuts = [0, *(reading.origin[start] for start, _ in plan.spans[1:]), len(text)]
            prepared.append(PreparedText(tokens, lang, SegmentPlan(plan.bounds, list(itertools.pairwise(cuts)))))
        return prepared

    def score_prepared(self, prepared: Sequence[PreparedText]) -> list[Verdict]:
        measured = self._statistics.measure([p.tokens for p in prepared], [p.plan.bounds for p in prepared])
        return [self._verdict(p.plan, sums, p.lang) for p, sums in zip(prepared, measured, strict=True)]

    def _verdict(self, plan: SegmentPlan, sums: BlockSums, lang: str) -> Verdict:
        total = sums.statistics()
        if total.n_predicted < self.model.min_tokens:
            whole = Segment(start=0, end=plan.spans[-1][1], probability=self.model.prior, n_tokens=total.n_predicted)
            return Verdict(
                probability=self.model.prior,
                label="human",
                n_tokens=total.n_predicted,
                lang=lang,
                too_short=True,
                confidence="low",
                segments=[whole],
            )
        features = self.model.likelihood_features
        assert sums.states is not None, "a probe's statistics carry the states it reads"
        probability = self.model.probability(design_row(total, sums.states.sum(axis=0), features), lang)
        segments = []
        for j, (start, end) in enumerate(plan.spans):
            row = design_row(sums.statistics(j, j + 1), sums.states[j], features)
            segment_p = self.model.segment_probability(row) if sums.counts[j] else probability
            segments.append(Segment(start=start, end=end, probability=segment_p, n_tokens=int(sums.counts[j])))
        threshold = self.model.calibration(lang).threshold
        label = label_of(probability, threshold, segments, self.model.segment.threshold)
        return Verdict(
            probability=probability,
            label=label,
            n_tokens=total.n_predicted,
            lang=lang,
            confidence=confidence_of(probability, threshold, label, total.n_predicted, too_short=False),
            segments=segments,
        )
