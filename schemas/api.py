"""HTTP bodies: the versioned `/v1` API and the two original (legacy) contracts."""

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    PrivateAttr,
    computed_field,
    model_validator,
)

from schemas.text import PlainStr, clean_text, tampering_notes
from schemas.verdict import Label, ScoreView
from schemas.webhooks import CallbackUrl

__all__ = [
    "BatchAccepted",
    "BatchProgress",
    "BatchStatus",
    "DetectorList",
    "DetectorView",
    "ErrorBody",
    "LineReject",
    "PredictRequest",
    "PredictResponse",
    "PredictionsRequest",
    "PredictionsResponse",
    "RecentText",
    "SubmissionAccepted",
    "SubmissionStatus",
    "SubmissionView",
    "SubmitRequest",
    "WebhookAttemptView",
    "WebhookSecret",
    "WebhookView",
    "preview",
]

SubmissionStatus = Literal["queued", "scored", "failed"]
BatchStatus = Literal["ingesting", "scoring", "scored", "empty"]


class ErrorBody(BaseModel):
    """Every error answer: the reason (a sentence), or for a malformed body each problem found in it."""

    detail: str | list[dict[str, Any]]
    submission_id: UUID | None = Field(
        default=None, description="on a 503 only: the text was recorded all the same and will be scored"
    )
    href: str | None = Field(default=None, description="with `submission_id`: where to poll it")


class _TextBody(BaseModel):
    """A body carrying a text, cleaned by the intake rule (schemas/text.py) as it is read: `normalised`
    says what was changed. Its length ceiling is the gateway's setting (413 when over)."""

    text: str
    _normalised: tuple[str, ...] = PrivateAttr(default=())

    @model_validator(mode="wrap")
    @classmethod
    def _clean(cls, data: Any, handler: ModelWrapValidatorHandler["_TextBody"]) -> "_TextBody":
        cleaned = None
        if isinstance(data, dict) and isinstance(data.get("text"), str):
            cleaned = clean_text(data["text"])  # TextRejected is a ValueError: a 422 with its reason
            data = {**data, "text": cleaned.text}
        body = handler(data)
        if cleaned is not None:
            body._normalised = cleaned.changes
        return body

    @property
    def normalised(self) -> tuple[str, ...]:
        return self._normalised


class SubmitRequest(_TextBody):
    model_config = ConfigDict(extra="forbid")

    lang: PlainStr | None = Field(default=None, max_length=16, description="ISO 639-1 code, if known")
    external_id: PlainStr | None = Field(default=None, max_length=256, description="the caller's own id")
    detector: PlainStr | None = Field(
        default=None,
        max_length=160,
        description="NAME, VERSION or NAME@VERSION of a detector the scorers run (GET /v1/detectors); "
        "default: the deployment's default detector",
    )
    callback_url: CallbackUrl | None = Field(
        default=None, description="POST the verdict here once stored, signed (docs/api.md, 'Webhooks')"
    )


class SubmissionAccepted(BaseModel):
    submission_id: UUID
    status: SubmissionStatus = "queued"
    href: str
    normalised: list[str] = Field(default=[], description="what the intake changed in the text (docs/api.md, 'Intake')")


class WebhookAttemptView(BaseModel):
    at: datetime
    status_code: int | None = Field(description="the receiver's answer; None: no answer (`error` says why)")
    error: str | None = None


class WebhookView(BaseModel):
    id: str = Field(description="`Veritext-Webhook-Id`: the same on every attempt of this verdict")
    url: str
    state: Literal["pending", "delivered", "dead"]
    attempts: list[WebhookAttemptView]


class WebhookSecret(BaseModel):
    secret: str = Field(description="hex; the key of the HMAC-SHA256 in `Veritext-Signature`")
    scheme: str = "Veritext-Signature: v1=hex(HMAC-SHA256(secret, TIMESTAMP + '.' + BODY))"


class SubmissionView(BaseModel):
    submission_id: UUID
    status: SubmissionStatus
    external_id: str | None
    lang: str | None
    source: str
    n_chars: int
    content_hash: str = Field(description="sha256 of the text as stored (hex)")
    submitted_at: datetime
    normalised: list[str] = Field(default=[], description="what the intake changed in the text (docs/api.md, 'Intake')")
    scores: list[ScoreView]
    failure: str | None = None
    webhooks: list[WebhookView] = Field(
        default=[], description="deliveries of its verdicts to its callback_url, each attempt with its answer"
    )

    @computed_field(  # type: ignore[prop-decorator]
        description="the notes of `normalised` that are evidence of tampering: invisible characters removed, "
        "look-alike letters of another script inside words (read by the detector as the word's own letters)"
    )
    @property
    def tampering(self) -> list[str]:
        return tampering_notes(self.normalised)


class PredictRequest(_TextBody):
    """The first original contract: `POST /predict {"text": ...}`."""


class PredictResponse(BaseModel):
    """Exactly the original answer: its clients parse `result` (the segments are in /predictions/predict)."""

    text: str
    result: str


class _PredictionsData(_TextBody):
    pass


class PredictionsRequest(BaseModel):
    """The second original contract: `POST /predictions/predict {"data": {"text": ...}}`."""

    data: _PredictionsData


class PredictionsResponse(ScoreView):
    """The second original contract's answer (`probability`, `label`) with the rest of the verdict."""

    submission_id: UUID


def preview(text: str, chars: int = 160) -> str:
    """A text's first characters on one line, for lists."""
    flat = " ".join(text.split())
    return flat if len(flat) <= chars else flat[: chars - 1] + "…"


class RecentText(BaseModel):
    """A scored text as the web page's recent list shows it."""

    submission_id: UUID
    probability: float
    label: Label
    detector: str = Field(description="NAME@VERSION")
    preview: str = Field(description="the text's first characters")
    scored_at: datetime


class DetectorView(BaseModel):
    """A detector version the scorers run, with its evaluation report (None when it has none)."""

    name: str
    version: str
    spec: str = Field(description="NAME@VERSION, what the `detector` field of a submission may name")
    default: bool = Field(description="scores the submissions that name no detector")
    report: dict[str, Any] | None = Field(description="held-out and test-split metrics, data hash (train-probe)")


class DetectorList(BaseModel):
    data: list[DetectorView]
    count: int


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
    status: BatchStatus = Field(
        description="ingesting (still writing), scoring, scored (every text has a result), or empty (finished "
        "with nothing accepted: every line rejected or a duplicate)"
    )
    submitted: int
    scored: int
    failed: int
    rejected: int
    duplicates: int = Field(description="texts skipped by `--dedupe` because the log already had them")
    created_at: datetime | None
    finished_at: datetime | None = Field(description="when the ingest finished writing")
