"""HTTP bodies: the versioned `/v1` API and the two original (legacy) contracts."""

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator

from schemas.events import Label

__all__ = [
    "BatchAccepted",
    "BatchProgress",
    "BatchStatus",
    "LineReject",
    "PredictRequest",
    "PredictResponse",
    "PredictionsRequest",
    "PredictionsResponse",
    "ScoreView",
    "SubmissionAccepted",
    "SubmissionStatus",
    "SubmissionView",
    "SubmitRequest",
]

SubmissionStatus = Literal["queued", "scored", "failed"]
BatchStatus = Literal["ingesting", "scoring", "scored"]


def _not_blank(text: str) -> str:
    if not text.strip():
        raise ValueError("text must contain at least one non-whitespace character")
    return text


class _TextBody(BaseModel):
    """A body carrying a text. Its length ceiling is the gateway's setting (413 when over)."""

    text: str

    _check_text = field_validator("text")(_not_blank)


class SubmitRequest(_TextBody):
    model_config = ConfigDict(extra="forbid")

    lang: str | None = Field(default=None, max_length=16, description="ISO 639-1 code, if known")
    external_id: str | None = Field(default=None, max_length=256, description="the caller's own id")


class SubmissionAccepted(BaseModel):
    submission_id: UUID
    status: SubmissionStatus = "queued"
    href: str


class ScoreView(BaseModel):
    detector_name: str
    detector_version: str
    probability: float
    label: Label
    n_tokens: int
    lang: str | None = None
    too_short: bool = False
    scored_at: datetime


class SubmissionView(BaseModel):
    submission_id: UUID
    status: SubmissionStatus
    external_id: str | None
    lang: str | None
    source: str
    n_chars: int
    submitted_at: datetime
    scores: list[ScoreView]
    failure: str | None = None


class PredictRequest(_TextBody):
    """The first original contract: `POST /predict {"text": ...}`."""


class PredictResponse(BaseModel):
    text: str
    result: str


class _PredictionsData(_TextBody):
    pass


class PredictionsRequest(BaseModel):
    """The second original contract: `POST /predictions/predict {"data": {"text": ...}}`."""

    data: _PredictionsData


class PredictionsResponse(BaseModel):
    submission_id: UUID
    probability: float
    label: Label
    detector_version: str


class LineReject(BaseModel):
    """One input line (or row, or file) that was not accepted, and why."""

    line: int = Field(description="1-based line number in the body or file (row number for Parquet)")
    reason: str


class BatchAccepted(BaseModel):
    """The answer to `POST /v1/batches`: every accepted line is durable in the topic."""

    batch_id: UUID
    accepted: int
    rejected: int
    rejects: list[LineReject] = Field(description="the rejected lines, the first 1000 of them")
    href: str


class BatchProgress(BaseModel):
    """Where a batch stands: `submitted` texts went to the topic; each is then scored or failed."""

    batch_id: UUID
    name: str = Field(description="the file it was read from, or `POST /v1/batches`")
    status: BatchStatus = Field(description="ingesting (still writing), scoring, or scored (every text has a result)")
    submitted: int
    scored: int
    failed: int
    rejected: int
    duplicates: int = Field(description="texts skipped by `--dedupe` because the log already had them")
    created_at: datetime | None
    finished_at: datetime | None = Field(description="when the ingest finished writing")
