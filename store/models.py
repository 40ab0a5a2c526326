"""The PostgreSQL log, as SQLAlchemy 2 models: one row per submission, one per (submission,
detector version) score, one per failure, keyed by what it is about (stage, submission, detector
version). Scores carry no foreign key on purpose: the two topics are consumed independently, so a score
may be stored before its submission.

Some tables are not built from the topics: `batches`, the bulk ingest's own ledger (how many events
each run wrote, and whether it finished), which turns counts into progress; `api_keys`, the
gateway's keys (`veritext keys`), stored hashed; `web_sessions`, the web page's sign-ins; and
`documents`, the uploaded files (where the original is kept, where each page starts in the text),
written by the gateway before their text is submitted; and the webhook outbox, `webhook_deliveries`
(one per stored score whose submission named a callback, written with the score) and
`webhook_attempts` (each try, for `GET /v1/texts/{id}`).
"""

from datetime import datetime
from typing import ClassVar
from uuid import UUID

from sqlalchemy import Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Table, Text, false, func
from sqlalchemy import text as sql_text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "ApiKey",
    "Base",
    "Batch",
    "Document",
    "Failure",
    "Score",
    "Submission",
    "WebSession",
    "WebhookAttempt",
    "WebhookDelivery",
]


class Base(DeclarativeBase):
    __table__: ClassVar[Table]  # every model here maps one table (SQLAlchemy's own annotation says FromClause)


class Submission(Base):
    __tablename__ = "submissions"
    # What every recorded text pays for (migration 0014): a batch and a tenant are looked up by equality,
    # so the rows without one (single submissions; every row while keys are off) stay out of their indexes.
    __table_args__ = (
        Index("ix_submissions_batch_id", "batch_id", postgresql_where=sql_text("batch_id IS NOT NULL")),
        Index("ix_submissions_tenant", "tenant", postgresql_where=sql_text("tenant IS NOT NULL")),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64), index=True)  # sha256 of the text
    lang: Mapped[str | None] = mapped_column(String(16))
    external_id: Mapped[str | None] = mapped_column(String(256))  # the caller's own; no index: nothing reads by it
    source: Mapped[str] = mapped_column(String(16))
    batch_id: Mapped[UUID | None] = mapped_column()
    correlation_id: Mapped[str | None] = mapped_column(String(256))
    detector: Mapped[str | None] = mapped_column(String(160))  # NAME@VERSION asked for; None: the default
    normalised: Mapped[list[str]] = mapped_column(JSONB, server_default=sql_text("'[]'::jsonb"))  # what intake changed
    tenant: Mapped[str | None] = mapped_column(String(64))  # the API key's name; None: no auth
    document_id: Mapped[UUID | None] = mapped_column()  # the uploaded file the text was read from
    callback_url: Mapped[str | None] = mapped_column(Text)  # where its verdicts are POSTed
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    stored_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Score(Base):
    __tablename__ = "scores"

    submission_id: Mapped[UUID] = mapped_column(primary_key=True)
    detector_version: Mapped[str] = mapped_column(String(128), primary_key=True)
    detector_name: Mapped[str] = mapped_column(String(64))
    probability: Mapped[float] = mapped_column(Float)
    label: Mapped[str] = mapped_column(String(16))
    n_tokens: Mapped[int] = mapped_column(Integer)
    lang: Mapped[str | None] = mapped_column(String(16))
    too_short: Mapped[bool] = mapped_column(Boolean, server_default=false())
    confidence: Mapped[str | None] = mapped_column(String(8))
    segments: Mapped[list[dict]] = mapped_column(JSONB, server_default=sql_text("'[]'::jsonb"))  # [{start, end, ...}]
    read_chars: Mapped[int | None] = mapped_column(Integer)  # where a long text's reading stopped; NULL: whole
    latency_ms: Mapped[float] = mapped_column(Float)
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    scored_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    stored_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Failure(Base):
    __tablename__ = "failures"

    subject: Mapped[str] = mapped_column(String(300), primary_key=True)  # what it is about: DeadLetterEvent.subject
    origin: Mapped[str] = mapped_column(String(300))  # where the record came from, e.g. topic[partition]@offset
    submission_id: Mapped[UUID | None] = mapped_column(index=True)
    stage: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    failed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Batch(Base):
    __tablename__ = "batches"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(Text)  # the file it was read from, or `POST /v1/batches`
    submitted: Mapped[int] = mapped_column(Integer, server_default="0")  # events the broker acknowledged
    rejected: Mapped[int] = mapped_column(Integer, server_default="0")
    duplicates: Mapped[int] = mapped_column(Integer, server_default="0")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), index=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    tenant: Mapped[str | None] = mapped_column(String(64))  # the API key (its name) that sent it


class ApiKey(Base):
    """A gateway key: its public id and the sha256 of its secret (never the secret), what it may do and
    how much. `revoked_at` set: refused from then on."""

    __tablename__ = "api_keys"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)  # the tenant
    key_id: Mapped[str] = mapped_column(String(16), unique=True)
    secret_sha256: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[list[str]] = mapped_column(JSONB)
    rate_limit: Mapped[str | None] = mapped_column(String(32))  # e.g. "60/minute"; None: no limit
    quota_per_day: Mapped[int | None] = mapped_column(Integer)  # texts a day; None: no quota
    callback_url: Mapped[str | None] = mapped_column(Text)  # where its verdicts go when a submit names none
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class WebSession(Base):
    """A sign-in of the web page: the sha256 of the session id its cookie holds (never the id, never the
    key), the key it stands for, and when it expires. Signing out deletes it; revoking the key ends it."""

    __tablename__ = "web_sessions"

    id_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    key_id: Mapped[str] = mapped_column(String(16), ForeignKey("api_keys.key_id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class Document(Base):
    """An uploaded file: the key of its original in the object store, its sha256, and where each page or
    paragraph starts in its text (`[{start, label}]`). Deleting it by its owner keeps the row, with
    when and by whom, and drops the original and the text (the submission's text is emptied)."""

    __tablename__ = "documents"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    submission_id: Mapped[UUID] = mapped_column(index=True)
    tenant: Mapped[str | None] = mapped_column(String(64), index=True)
    filename: Mapped[str | None] = mapped_column(String(256))
    media_type: Mapped[str] = mapped_column(String(128))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    object_key: Mapped[str] = mapped_column(Text)
    parts: Mapped[list[dict]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    deleted_by: Mapped[str | None] = mapped_column(String(64))


class WebhookDelivery(Base):
    """A verdict to POST to a callback: written in the transaction that stores its score, then claimed,
    tried and retried by the sink's deliverer until delivered or, past its retry time, dead."""

    __tablename__ = "webhook_deliveries"

    submission_id: Mapped[UUID] = mapped_column(primary_key=True)
    detector_version: Mapped[str] = mapped_column(String(128), primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    tenant: Mapped[str | None] = mapped_column(String(64))
    payload: Mapped[dict] = mapped_column(JSONB)
    state: Mapped[str] = mapped_column(String(16), server_default="pending")  # pending, delivered, dead
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    next_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_error: Mapped[str | None] = mapped_column(Text)


class WebhookAttempt(Base):
    __tablename__ = "webhook_attempts"

    submission_id: Mapped[UUID] = mapped_column(primary_key=True)
    detector_version: Mapped[str] = mapped_column(String(128), primary_key=True)
    attempt: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
