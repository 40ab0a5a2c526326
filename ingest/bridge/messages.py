"""What travels over RabbitMQ: a task as the original clients send it, and the bridge's answers.

A task body is JSON, `{"text": ...}` or `{"data": {"text": ...}}`, optionally with an `id` (at the
top or inside `data`); other keys are ignored, as the original workers ignored them. The AMQP
properties `message_id`, `correlation_id` and `reply_to` are honoured.

The submission id is a uuid5 of the task's identity, so a redelivered task (same message) and a
resent one (same id) become the same submission and are stored and scored once. The identity is
the body `id` when there is one (the client's own choice), else the AMQP `message_id` (client
libraries such as aiormq fill it with a random value per publish, which still stays the same on
redelivery), else the correlation id with a hash of the body.

Anything else (not UTF-8 JSON, not an object, no text, blank text, a text over the limit, an id
that is not a string or number) is a `MalformedTask` with the reason, for the dead-letter queue.
"""

import hashlib
import json
import uuid
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from ingest.legacy import legacy_result
from schemas.events import ScoreEvent
from schemas.text import CleanText, TextRejected, check_plain, clean_text, too_long
from schemas.verdict import ScoreView

__all__ = [
    "SUBMISSION_NAMESPACE",
    "BridgeTask",
    "ErrorReply",
    "MalformedTask",
    "ScoreReply",
    "parse_task",
]

# Fixed forever: changing it would give a redelivered task a new submission id.
SUBMISSION_NAMESPACE = UUID("5b0c7f4e-3d1a-5e8b-9a6f-2c4d8e1f0a7b")
_MAX_ID_CHARS = 256


class MalformedTask(ValueError):
    """A task the bridge cannot accept; the message is the reason (goes into the DLQ header)."""


class BridgeTask(BaseModel):
    model_config = ConfigDict(frozen=True)

    submission_id: UUID
    text: str  # cleaned by the intake rule (schemas/text.py)
    normalised: tuple[str, ...] = Field(default=(), description="what the intake changed in the text")
    task_id: str | None = Field(description="the body `id`, else the AMQP message id")
    correlation_id: str | None
    reply_to: str | None


class ScoreReply(ScoreView):
    """The answer to a task: the original `result` string plus the verdict."""

    submission_id: UUID
    id: str | None
    result: str

    @classmethod
    def answer(cls, task: BridgeTask, score: ScoreEvent) -> "ScoreReply":
        return cls.of(score, id=task.task_id, result=legacy_result(task.text, score.probability))


class ErrorReply(BaseModel):
    """Sent to `reply_to` when a task cannot be answered (malformed, or the detector failed on it)."""

    submission_id: UUID | None = None
    id: str | None = None
    error: str


def _task_id(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise MalformedTask(f"`id` must be a string or an integer, not {type(value).__name__}")
    task_id = str(value)
    if not task_id or len(task_id) > _MAX_ID_CHARS:
        raise MalformedTask(f"`id` must have 1 to {_MAX_ID_CHARS} characters")
    return _plain("id", task_id)


def _plain(name: str, value: str | None) -> str | None:
    """`value` when it is plain text (schemas/text.py `check_plain`), else `MalformedTask` naming the field."""
    if value is None:
        return None
    try:
        return check_plain(value)
    except TextRejected as exc:
        raise MalformedTask(f"`{name}` {exc}") from None


def _text(body: dict[str, Any], max_chars: int) -> CleanText:
    data = body.get("data")
    text = body["text"] if "text" in body else data.get("text") if isinstance(data, dict) else None
    if text is None:
        raise MalformedTask('no text: expected {"text": ...} or {"data": {"text": ...}}')
    if not isinstance(text, str):
        raise MalformedTask(f"text must be a string, not {type(text).__name__}")
    try:
        cleaned = clean_text(text)
    except TextRejected as exc:
        raise MalformedTask(str(exc)) from None
    if reason := too_long(cleaned.text, max_chars):
        raise MalformedTask(reason)
    return cleaned


def parse_task(
    body: bytes,
    *,
    message_id: str | None,
    correlation_id: str | None,
    reply_to: str | None,
    max_text_chars: int,
) -> BridgeTask:
    """The task in an AMQP message, or `MalformedTask` with the reason."""
    try:
        decoded = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise MalformedTask(f"body is not UTF-8: {exc}") from None
    except json.JSONDecodeError as exc:
        raise MalformedTask(f"body is not JSON: {exc}") from None
    if not isinstance(decoded, dict):
        raise MalformedTask(f"body must be a JSON object, not {type(decoded).__name__}")
    cleaned = _text(decoded, max_text_chars)
    data = decoded.get("data")
    body_id = _task_id(decoded.get("id", data.get("id") if isinstance(data, dict) else None))
    task_id = body_id or _plain("message_id", message_id) or None
    correlation_id = _plain("correlation_id", correlation_id)
    reply_to = _plain("reply_to", reply_to)
    if task_id is not None:
        identity = f"id:{task_id}"
    else:
        identity = f"correlation:{correlation_id or ''}:sha256:{hashlib.sha256(body).hexdigest()}"
    return BridgeTask(
        submission_id=uuid.uuid5(SUBMISSION_NAMESPACE, identity),
        text=cleaned.text,
        normalised=cleaned.changes,
        task_id=task_id,
        correlation_id=correlation_id or None,
        reply_to=reply_to or None,
    )
