"""Idempotent batch writes into the PostgreSQL log. Knows nothing of Kafka.

One statement per table per batch; submissions, the bulk of what is written, go in as one JSON
document of rows (`INSERT ... SELECT FROM json_populate_recordset(...)`), encoded in C: 35-37k rows/s of
short texts in chunks of 1,000 on the 2-core machine, against 27-31k for one array per column (`unnest`,
the way before, whose arrays psycopg's Python dumper built element by element, holding the GIL a bulk
ingest's reading thread waits for: Python CPU per 50,000 rows 0.86-0.94 s against 0.62-0.64 s) and
7-8k for SQLAlchemy's multi-row `VALUES` of 14 columns. Each value is read by its column
type's own input function, so a string too long for its column is refused, not cut.
An intake recording submissions whose ids are new (store/recorder.py) sends them by `COPY` instead
(`copy_submissions`): no JSON for PostgreSQL to parse and no conflict check, 37k rows/s against 26-30k
and 17-19 µs of the server's CPU a row against 19-30 (five indexes are most of what is left); it
cannot skip a row that is there already, so it raises, and the recorder falls back to the insert.
`ON CONFLICT DO NOTHING` on the natural keys makes a redelivered event a no-op, so the log never holds
a second row for one submission or a second score for one (submission, detector version). The first
stored score wins, and a score of another text than the one stored (two requests raced under one
Idempotency-Key with different texts) is never stored: its `content_hash` must be the stored
submission's. Each function returns the events whose rows it newly inserted (`RETURNING`), for the
sink's metrics and log lines.

`write_log` writes a batch of all three in one transaction, retried while PostgreSQL does not answer.
A batch PostgreSQL refuses (a value it cannot store, such as a NUL character from a producer that
skipped the intake rule) is written again row by row, each in a savepoint: the refused rows become
failure rows with PostgreSQL's reason, keyed by what they are about (`sink:<submission id>[@detector]`),
and the rest are stored.
"""

import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from psycopg.types.json import Jsonb
from sqlalchemy import Engine, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session

from schemas.errors import ServiceUnavailable
from schemas.events import DeadLetterEvent, ScoreEvent, SubmissionEvent, content_hash
from schemas.webhooks import webhook_body
from store.db import UNAVAILABLE
from store.models import Failure, Score, Submission, WebhookDelivery

__all__ = ["LogBatch", "copy_submissions", "write_failures", "write_log", "write_scores", "write_submissions"]

log = logging.getLogger(__name__)

_WRITE_ATTEMPTS = 5
# Core statements run with a list of rows (executemany): SQLAlchemy sends them as one multi-row INSERT per
# batch of rows and compiles each statement once (`.values(rows)` compiled a new statement every time).
_INSERT_DELIVERIES = insert(WebhookDelivery.__table__).on_conflict_do_nothing()
_SUBMISSION_COLUMNS = [c for c in Submission.__table__.columns if c.name != "stored_at"]  # the database's clock


_SUBMISSION_NAMES = ", ".join(c.name for c in _SUBMISSION_COLUMNS)
_INSERT_SUBMISSIONS = text(
    f"INSERT INTO {Submission.__tablename__} ({_SUBMISSION_NAMES}) SELECT {_SUBMISSION_NAMES} "
    f"FROM json_populate_recordset(NULL::{Submission.__tablename__}, CAST(:rows AS json)) "
    "ON CONFLICT DO NOTHING RETURNING id"
)
_COPY_SUBMISSIONS = f"COPY {Submission.__tablename__} ({_SUBMISSION_NAMES}) FROM STDIN"
_INSERT_SCORES = (
    insert(Score.__table__)
    .on_conflict_do_nothing()
    .returning(Score.__table__.c.submission_id, Score.__table__.c.detector_version)
)
_INSERT_FAILURES = insert(Failure.__table__).on_conflict_do_nothing().returning(Failure.__table__.c.subject)


@dataclass
class LogBatch:
    submissions: list[SubmissionEvent] = field(default_factory=list)
    scores: list[ScoreEvent] = field(default_factory=list)
    failures: list[DeadLetterEvent] = field(default_factory=list)
    refused: int = 0  # rows PostgreSQL refused, stored as failures instead (in `failures` when new)


def write_log(engine: Engine, batch: LogBatch) -> LogBatch:
    """Write `batch` in one transaction; returns what was newly stored. Raises `ServiceUnavailable`
    once PostgreSQL has failed to answer `_WRITE_ATTEMPTS` times in a row."""
    for attempt in range(1, _WRITE_ATTEMPTS + 1):
        try:
            try:
                with Session(engine) as session, session.begin():
                    return LogBatch(
                        write_submissions(session, batch.submissions),
                        write_scores(session, batch.scores),
                        write_failures(session, batch.failures),
                    )
            except (DataError, IntegrityError) as exc:
                log.warning("PostgreSQL refused a row of the batch (%s); writing its rows one by one", exc.orig)
                return _write_isolating(engine, batch)
        except UNAVAILABLE as exc:
            if attempt == _WRITE_ATTEMPTS:
                raise ServiceUnavailable(f"PostgreSQL write failed {attempt} times: {exc}") from exc
            log.warning("PostgreSQL write failed (attempt %d), retrying: %s", attempt, exc)
            time.sleep(2**attempt * 0.25)
    raise AssertionError("unreachable")


def _write_isolating(engine: Engine, batch: LogBatch) -> LogBatch:
    """Each row in a savepoint of its own: a row PostgreSQL refuses becomes a failure row with the
    reason, keyed by what it is about, and every other row is stored."""
    stored, refused = LogBatch(), []
    writes: list[tuple[Any, Callable[[Session, Sequence[Any]], list[Any]], list[Any], str, str | None]] = [
        *((e, write_submissions, stored.submissions, "submission", None) for e in batch.submissions),
        *((e, write_scores, stored.scores, "score", str(e.spec)) for e in batch.scores),
        *((e, write_failures, stored.failures, f"failure {e.subject}", None) for e in batch.failures),
    ]
    with Session(engine) as session, session.begin():
        for event, write, kept, what, detector in writes:
            try:
                with session.begin_nested():
                    kept.extend(write(session, [event]))
            except (DataError, IntegrityError) as exc:
                reason = f"PostgreSQL refused the {what} row: {_refusal(exc)}"
                log.error("%s", reason, extra={"submission_id": str(event.submission_id)})
                refused.append(
                    DeadLetterEvent(
                        submission_id=event.submission_id,
                        stage="sink",
                        reason=reason,
                        origin=f"sink {what} write"[:300],
                        payload=event.model_dump_json().encode("utf-8", "replace").decode()[:10_000],
                        detector=detector,
                    )
                )
        stored.failures.extend(write_failures(session, refused))
    stored.refused = len(refused)
    return stored


# Refusals whose detail names no value of the row (a NUL in JSON: "\u0000 cannot be converted to text.");
# every other detail may quote the row (a check constraint's "Failing row contains ..."), user text included.
_SAFE_DETAIL = {"22P05"}  # untranslatable_character


def _refusal(exc: DataError | IntegrityError) -> str:
    """PostgreSQL's reason for refusing a row: its first line, and its detail where that quotes nothing."""
    reason = str(exc.orig).splitlines()[0]
    diag = getattr(exc.orig, "diag", None)
    if diag is not None and diag.sqlstate in _SAFE_DETAIL and diag.message_detail:
        reason += f": {diag.message_detail}"
    return reason


def write_submissions(session: Session, events: Sequence[SubmissionEvent]) -> list[SubmissionEvent]:
    latest = {e.submission_id: e for e in events}  # a submission twice in one batch: its last event
    if not latest:
        return []
    rows = json.dumps([_submission_row(e) for e in latest.values()], ensure_ascii=False, separators=(",", ":"))
    inserted = set(session.scalars(_INSERT_SUBMISSIONS, {"rows": rows}))
    return [e for e in latest.values() if e.submission_id in inserted]


def copy_submissions(session: Session, events: Sequence[SubmissionEvent]) -> None:
    """Store submissions none of which the log holds, in the session's transaction, by `COPY`. Raises
    psycopg's `UniqueViolation` when one is there already (or twice in `events`), `DataError` for a value
    PostgreSQL refuses; the transaction is then to be rolled back."""
    connection = session.connection().connection.driver_connection  # psycopg's own, for its COPY
    assert connection is not None, "a session's connection is checked out"
    with connection.cursor() as cursor, cursor.copy(_COPY_SUBMISSIONS) as copy:
        for e in events:
            row = _submission_row(e)
            row["normalised"] = Jsonb(row["normalised"])
            copy.write_row([row[column.name] for column in _SUBMISSION_COLUMNS])


def _submission_row(e: SubmissionEvent) -> dict[str, Any]:
    """The submission's row as JSON values, named by column."""
    return {
        "id": str(e.submission_id),
        "text": e.text,
        "content_hash": content_hash(e.text),
        "lang": e.lang,
        "external_id": e.external_id,
        "source": e.source,
        "batch_id": str(e.batch_id) if e.batch_id else None,
        "correlation_id": e.correlation_id,
        "detector": e.detector,
        "tenant": e.tenant,
        "document_id": str(e.document_id) if e.document_id else None,
        "callback_url": e.callback_url,
        "normalised": e.normalised,
        "submitted_at": e.submitted_at.isoformat(),
    }


def write_scores(session: Session, events: Sequence[ScoreEvent]) -> list[ScoreEvent]:
    rows: dict[tuple[object, str], dict[str, object]] = {}
    firsts: dict[tuple[object, str], ScoreEvent] = {}
    for e in _of_the_stored_text(session, events):
        key = (e.submission_id, e.detector_version)
        if key not in rows:
            rows[key] = e.model_dump(include=set(Score.__table__.columns.keys()))
            firsts[key] = e
    if not rows:
        return []
    inserted = session.execute(_INSERT_SCORES, list(rows.values()))
    stored = [firsts[(submission_id, version)] for submission_id, version in inserted]
    deliveries = [
        {
            "submission_id": e.submission_id,
            "detector_version": e.detector_version,
            "url": e.callback_url,
            "tenant": e.tenant,
            "payload": webhook_body(e),
        }
        for e in stored
        if e.callback_url is not None
    ]
    if deliveries:  # the outbox of the sink's webhook deliverer, in the score's own transaction
        session.execute(_INSERT_DELIVERIES, deliveries)
    return stored


def _of_the_stored_text(session: Session, events: Sequence[ScoreEvent]) -> list[ScoreEvent]:
    """The scores whose text is the one the log holds for their submission (or whose submission it does
    not hold yet); the others are logged and left out."""
    ids = {e.submission_id for e in events if e.content_hash is not None}
    if not ids:
        return list(events)
    stored = dict(session.execute(select(Submission.id, Submission.content_hash).where(Submission.id.in_(ids))).all())
    kept = []
    for e in events:
        held = stored.get(e.submission_id)
        if e.content_hash is not None and held is not None and held != e.content_hash:
            log.warning(
                "refused a score of submission %s by %s: it scored another text than the one stored",
                e.submission_id,
                e.detector_version,
            )
            continue
        kept.append(e)
    return kept


def write_failures(session: Session, events: Sequence[DeadLetterEvent]) -> list[DeadLetterEvent]:
    rows = {
        e.subject: {
            "subject": e.subject,
            "origin": e.origin,
            "submission_id": e.submission_id,
            "stage": e.stage,
            "reason": e.reason,
            "failed_at": e.failed_at,
        }
        for e in events
    }
    if not rows:
        return []
    inserted = set(session.scalars(_INSERT_FAILURES, list(rows.values())))
    return [e for e in {e.subject: e for e in events}.values() if e.subject in inserted]
