"""Result rows as they leave veritext: one exported row per (submission, detector version), and the
comparison of two detector versions on the texts both scored."""

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from schemas.verdict import Confidence, Label, Segment

__all__ = ["Comparison", "ResultRow"]


class ResultRow(BaseModel):
    """One score of one submission, with what identifies the text. Column order = field order: a flat
    contract for spreadsheets, so it names the verdict's fields (schemas/verdict.py) itself, the detector's
    `lang` as `detected_lang` beside the language given at submission (a test checks none is missing)."""

    model_config = ConfigDict(frozen=True)

    submission_id: UUID
    external_id: str | None
    batch_id: UUID | None
    content_hash: str = Field(description="sha256 of the text (hex)")
    lang: str | None = Field(description="the language given at submission")
    detected_lang: str | None = Field(description="the language the detector found")
    probability: float
    label: Label
    too_short: bool
    confidence: Confidence | None
    n_tokens: int
    detector_name: str
    detector_version: str
    submitted_at: datetime
    scored_at: datetime
    segments: list[Segment] = Field(description="per-sentence scores; JSON text in CSV and Parquet")
    read_chars: int | None = Field(description="a long text is read up to this character; empty: read whole")


class Comparison(BaseModel):
    """Detector B against detector A on the texts both scored; shifts are B minus A."""

    a: str
    b: str
    both_scored: int
    flipped_human_to_machine: int = Field(description="labelled human by A, machine by B")
    flipped_machine_to_human: int = Field(description="labelled machine by A, human by B")
    agreement: float | None = Field(description="share of texts with the same label (None when none compared)")
    mean_shift: float | None = Field(description="mean of B - A probability")
    mean_abs_shift: float | None
    max_abs_shift: float | None
