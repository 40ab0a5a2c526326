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
from schemas.verdict import ScoreView

__all__ = [
    "MAX_TEXT_CHARS",
    "SCHEMA_VERSION",
    "DeadLetterEvent",
    "ScoreEvent",
    "Source",
    "SubmissionEvent",
    "content_hash",
    "utcnow",
    "wire",
]

SCHEMA_VERSION: Literal[1] = 1
MAX_TEXT_CHARS = 100_000  # the hard ceiling of the event; the gateway may set a lower one

Source = Literal["http", "web", "predict", "bulk", "rabbitmq", "replay"]


def utcnow() -> datetime:
    return datetime.now(UTC)


def content_hash(text: str) -> str:
    """The sha256 of a text (hex), as the log stores it: what `--dedupe` and exports compare."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def wire(event: BaseModel) -> bytes:
    """An event as the topics carry it (JSON, UTF-8); the log database reads submissions from the same
    bytes (store/writer.py), so an intake that records and sends an event encodes it once."""
    return event.model_dump_json().encode()


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


class ScoreEvent(_Event, ScoreView):
    """One detector's verdict on one submission. Unique per (submission_id, detector_version)."""

    submission_id: UUID
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
