"""Events on the log: a submission (gateway -> scorer, sink), a score (scorer -> sink, waiters)
and a dead letter (anything a worker could not process, with the reason and where it failed).

Every event carries the submission id, so each consumer can be idempotent, and a schema version.
"""

import hashlib
from datetime import UTC, datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from schemas.detector_spec import DetectorSpec
from schemas.text import PlainStr

__all__ = [
    "MAX_TEXT_CHARS",
    "SCHEMA_VERSION",
    "Confidence",
    "DeadLetterEvent",
    "Label",
    "ScoreEvent",
    "Segment",
    "Source",
    "SubmissionEvent",
    "content_hash",
    "utcnow",
]

SCHEMA_VERSION: Literal[1] = 1
MAX_TEXT_CHARS = 100_000  # the hard ceiling of the event; the gateway may set a lower one

Label = Literal["human", "mixed", "machine"]  # "mixed": parts of the text disagree strongly
Confidence = Literal["low", "medium", "high"]
Source = Literal["http", "web", "predict", "bulk", "rabbitmq", "replay"]


def utcnow() -> datetime:
    return datetime.now(UTC)


def content_hash(text: str) -> str:
    """The sha256 of a text (hex), as the log stores it: what `--dedupe` and exports compare."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class _Event(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal[1] = SCHEMA_VERSION


class SubmissionEvent(_Event):
    """A text accepted for scoring. Written by ingest, durable before the client hears 'accepted'."""

    submission_id: UUID
    text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS)
    lang: PlainStr | None = Field(default=None, max_length=16)
    external_id: PlainStr | None = Field(default=None, max_length=256)
    source: Source = "http"
    batch_id: UUID | None = Field(default=None, description="the bulk ingest run that carried it")
    correlation_id: PlainStr | None = Field(default=None, max_length=256, description="the caller's RPC correlation id")
    reply_to: PlainStr | None = Field(
        default=None, max_length=256, description="where a legacy client awaits the answer"
    )
    detector: PlainStr | None = Field(
        default=None, max_length=160, description="NAME@VERSION of the detector asked for; None: the default"
    )
    normalised: list[str] = Field(default=[], max_length=8, description="what the intake changed in the text")
    tenant: PlainStr | None = Field(default=None, max_length=64, description="the API key (its name) that sent it")
    document_id: UUID | None = Field(
        default=None, description="the uploaded file the text was read from; its original is in the object store"
    )
    callback_url: PlainStr | None = Field(
        default=None, max_length=2048, description="where its verdict is POSTed once stored (schemas/webhooks.py)"
    )
    submitted_at: datetime = Field(default_factory=utcnow)


class Segment(BaseModel):
    """A span of the scored text (character offsets into it) and the probability of that span alone."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    start: int = Field(ge=0)
    end: int = Field(ge=0)
    probability: float = Field(ge=0.0, le=1.0)
    n_tokens: int = Field(ge=0, description="tokens counted in this span")


class ScoreEvent(_Event):
    """One detector's verdict on one submission. Unique per (submission_id, detector_version)."""

    submission_id: UUID
    detector_name: str
    detector_version: str
    probability: float = Field(ge=0.0, le=1.0)
    label: Label
    n_tokens: int = Field(ge=0)
    lang: str | None = Field(default=None, max_length=16, description="the language the detector found")
    too_short: bool = Field(default=False, description="too few tokens to judge: the probability is the prior")
    confidence: Confidence | None = Field(default=None, description="how sure the label is; None: not stated")
    segments: list[Segment] = Field(default=[], description="per-sentence scores covering the text read, in order")
    read_chars: int | None = Field(
        default=None, ge=0, description="where the reading of a long text stopped; None: read whole"
    )
    replayed: bool = Field(default=False, description="produced by a replay, not by the live scorer")
    tenant: PlainStr | None = Field(
        default=None, max_length=64, description="the submission's tenant, so a live listener filters without a read"
    )
    latency_ms: float = Field(ge=0.0, description="model time of the batch this text was scored in")
    submitted_at: datetime
    scored_at: datetime = Field(default_factory=utcnow)
    content_hash: str | None = Field(
        default=None,
        description="sha256 of the text scored (hex): the sink refuses a score of another text than the one stored",
    )
    callback_url: PlainStr | None = Field(
        default=None, max_length=2048, description="the submission's callback: the sink delivers this verdict there"
    )

    @property
    def spec(self) -> DetectorSpec:
        return DetectorSpec(self.detector_name, self.detector_version)


class DeadLetterEvent(_Event):
    """An input a worker could not process. Written before the offset that carried it is committed."""

    submission_id: UUID | None = None
    stage: Literal["scorer", "sink", "bridge", "ingest"]
    reason: str
    origin: str = Field(description="where the failed record came from, e.g. topic[partition]@offset")
    payload: str = Field(description="the original record value, decoded leniently")
    detector: str | None = Field(default=None, max_length=160, description="NAME@VERSION that failed on it, if any")
    failed_at: datetime = Field(default_factory=utcnow)

    @property
    def subject(self) -> str:
        """What the failure is about, the key of its row: the stage, the submission and the detector version
        when known, else the payload's hash. Never the record's offset, which a restarted broker reuses."""
        if self.submission_id is None:
            return f"{self.stage}:payload:{content_hash(self.payload)[:40]}"
        return f"{self.stage}:{self.submission_id}" + (f"@{self.detector}" if self.detector else "")
