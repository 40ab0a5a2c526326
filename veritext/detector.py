"""The public Python API, for in-process use (the model and its caller in one process, no pipeline):

    from veritext import Detector

    detector = Detector.load()                 # the deployment's default detector (VERITEXT_SCORER_*)
    verdicts = detector.score(["Some text.", "Another text."])
    verdicts[0].probability, verdicts[0].label, verdicts[0].segments

`Detector.load(spec)` takes the same `NAME` or `NAME@VERSION` as `veritext scorer --detector`, from the
same registry, so a verdict here equals the score the pipeline stores for the same text: each text is
cleaned by the same intake rule first (schemas/text.py; a text it rejects raises `InputError` naming
the text), then read as the scorer reads it (at most its first 10,000 characters, scorer/window.py; the
verdict's `read_chars` says where a long text's reading stopped) and scored in batches of `batch_size`.
"""

from collections.abc import Sequence

from schemas.detector_spec import DetectorSpec
from schemas.errors import InputError
from schemas.text import TextRejected, clean_text
from schemas.verdict import Verdict
from scorer.detectors import load_detector
from scorer.detectors.base import Detector as DetectorModel
from scorer.settings import ScorerSettings
from scorer.window import read_window

__all__ = ["Detector", "Verdict"]


class Detector:
    def __init__(self, model: DetectorModel, batch_size: int = 16) -> None:
        self._model = model
        self._batch_size = batch_size

    @classmethod
    def load(cls, spec: str | None = None, *, batch_size: int = 16) -> "Detector":
        """Load `spec` (default: VERITEXT_SCORER_DETECTOR) as the scorer would, and warm it up."""
        settings = ScorerSettings()
        model = load_detector(
            spec or settings.detector, cache_dir=settings.model_dir, options=settings.detector_options()
        )
        model.warmup()
        return cls(model, batch_size)

    @property
    def spec(self) -> str:
        """NAME@VERSION, as every score of this detector records it."""
        return str(DetectorSpec(self._model.name, self._model.version))

    def score(self, texts: Sequence[str]) -> list[Verdict]:
        """One verdict per text, in order."""
        cleaned = []
        for n, text in enumerate(texts):
            try:
                cleaned.append(read_window(clean_text(text).text))
            except TextRejected as exc:
                raise InputError(f"text {n}: {exc}") from None
        verdicts: list[Verdict] = []
        for start in range(0, len(cleaned), self._batch_size):
            windows = cleaned[start : start + self._batch_size]
            scored = self._model.score([window.text for window in windows])
            verdicts += [
                verdict.model_copy(update={"read_chars": window.read_chars})
                for verdict, window in zip(scored, windows, strict=True)
            ]
        return verdicts
