"""A verdict, declared once: what a detector answers on one text (`Verdict`) and one detector version's
verdict as every reader gets it (`ScoreView`).

The score event (events.py), `GET /v1/texts/{id}`, `/predictions/predict`, a document's verdict, the
bridge's reply and the webhook body are this model with what their reader needs added; the score row
(store/models.py) has a column of the same name per field, so the sink writes and the store reads a
score without naming its fields. A new field of a verdict is declared here, given a column (and a
migration), and named in the export (results.py, whose columns are a flat, ordered contract).
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Confidence", "Label", "ScoreView", "Segment", "Verdict"]

Label = Literal["human", "mixed", "machine"]  # "mixed": parts of the text disagree strongly
Confidence = Literal["low", "medium", "high"]


class Segment(BaseModel):
    """A span of the scored text (character offsets into it) and the probability of that span alone."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    start: int = Field(ge=0)
    end: int = Field(ge=0)
    probability: float = Field(ge=0.0, le=1.0)
    n_tokens: int = Field(ge=0, description="tokens counted in this span")


class Verdict(BaseModel):
    """A detector's answer on one text."""

    model_config = ConfigDict(frozen=True)

    probability: float = Field(ge=0.0, le=1.0, description="probability that a machine wrote the text")
    label: Label = Field(description="the label at the detector's operating point")
    n_tokens: int = Field(ge=0, description="tokens the model read")
    lang: str | None = Field(default=None, max_length=16, description="the language the detector found")
    too_short: bool = Field(default=False, description="too few tokens to judge: the probability is the prior")
    confidence: Confidence | None = Field(default=None, description="how sure the label is; None: not stated")
    segments: Sequence[Segment] = Field(default=[], description="per-sentence scores covering the text read, in order")
    read_chars: int | None = Field(
        default=None, ge=0, description="a long text is read from its start up to this character; None: read whole"
    )

    @classmethod
    def of(cls, source: Any, **more: Any) -> Self:
        """This model of `more` and of the fields `source` has by the same names (a verdict, a score event,
        a score row or view), so no reader copies a score field by field."""
        read = {name: getattr(source, name) for name in cls.model_fields if name not in more and hasattr(source, name)}
        return cls(**read, **more)


class ScoreView(Verdict):
    """One detector version's verdict on a text, as it is stored and shown."""

    detector_name: str
    detector_version: str
    scored_at: datetime
