"""Idempotent batch writes into the PostgreSQL log. Knows nothing of Kafka.

One statement per table per batch. Submissions, the bulk of what is written, go in as the events
themselves: their wire form (`schemas.events.wire`, the JSON the topics carry), joined into one JSON
array that PostgreSQL reads (`json_to_recordset`, each field by its column's type, so a string too long
for its column is refused, not cut) and hashes (`content_hash`, sha256 of the text, computed by
PostgreSQL). An intake that records and then sends an event (store/recorder.py) encodes it once for
both, and the Python work of recording a row is joining its bytes: what recording costs runs in
PostgreSQL, on the other core, not under the intake's GIL. Measured on the 2-core machine, recording
thread of `veritext ingest`: 3 µs of CPU a short text, against 13 for a binary `COPY` of the values
(the way before; 23 for text `COPY`), and the ingest's durable rate x0.60 -> x0.75 of topic-only
(docs/benchmarks.md).
`ON CONFLICT DO NOTHING` on the natural keys makes a redelivered event a no-op, so the log never holds
a second row for one submission or a second score for one (submission, detector version). The first
stored score wins, and a score of another text than the one stored (two requests raced under one
Idempotency-Key with different texts) is never stored: its `content_hash` must be the stored
submission's. The sink's functions return the events whose rows they newly inserted (`RETURNING`), for
its metrics and log lines; the intakes' `record_submissions` returns the ids the log holds under another
text, which their callers hear of.

`write_log` writes a batch of all three in one transaction, retried while PostgreSQL does not answer.
A batch PostgreSQL refuses (a value it cannot store, such as a NUL character from a producer that
skipped the intake rule) is written again row by row, each in a savepoint: the refused rows become
failure rows with PostgreSQL's reason, keyed by what they are about (`sink:<submission id>[@detector]`),
and the rest are stored.
"""

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from sqlalchemy import Engine, select, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session

from schemas.errors import ServiceUnavailable
from schemas.events import DeadLetterEvent, ScoreEvent, SubmissionEvent, wire
from schemas.webhooks import webhook_body
from store.db import UNAVAILABLE
from store.models import Failure, Score, Submission, WebhookDelivery

__all__ = ["LogBatch", "record_submissions", "write_failures", "write_log", "write_scores", "write_submissions"]

log = logging.getLogger(__name__)

_WRITE_ATTEMPTS = 5
# Core statements run with a list of rows (executemany): SQLAlchemy sends them as one multi-row INSERT per
# batch of rows and compiles each statement once (`.values(rows)` compiled a new statement every time).
_INSERT_DELIVERIES = insert(WebhookDelivery.__table__).on_conflict_do_nothing()
_SUBMISSION_COLUMNS = [c for c in Submission.__table__.columns if c.name != "stored_at"]  # the database's clock
_SUBMISSION_NAMES = ", ".join(c.name for c in _SUBMISSION_COLUMNS)
_EVENT_FIELD = {"id": "submission_id"}  # a column whose event field has another name
_COMPUTED = {"content_hash": "encode(sha256(convert_to(e.text, 'UTF8')), 'hex')"}  # = schemas.events.content_hash
# The rows of a JSON array of submission events, as the table's columns (`:rows`).
_GIVEN = "SELECT {values} FROM json_to_recordset(CAST(:rows AS json)) AS e({fields})".format(
    values=", ".join(
        f"{_COMPUTED.get(c.name, 'e.' + _EVENT_FIELD.get(c.name, c.name))} AS {c.name}" for c in _SUBMISSION_COLUMNS
    ),
    fields=", ".join(
        f"{_EVENT_FIELD.get(c.name, c.name)} {c.type.compile(dialect=postgresql.dialect())}"
        for c in _SUBMISSION_COLUMNS
        if c.name not in _COMPUTED
    ),
)
_INSERT_SUBMISSIONS = text(
    f"INSERT INTO {Submission.__tablename__} ({_SUBMISSION_NAMES}) {_GIVEN} ON CONFLICT DO NOTHING RETURNING id"
)
# The given submissions that the log holds under another text: run after the insert, as a statement of
# its own, whose snapshot includes a row that a concurrent transaction committed while the insert waited
# for it (the insert's own statement could not see that row).
_HELD_UNDER_ANOTHER_TEXT = text(
    f"SELECT given.id FROM ({_GIVEN}) AS given JOIN {Submission.__tablename__} AS held ON held.id = given.id "
    "WHERE held.content_hash <> given.content_hash"
)
# psycopg prepares a statement run five times; PostgreSQL's generic plan of the insert, made after groups
# of 1,000 rows, then took 18-28 ms for a group of one (2 ms planned for the rows given), so each
# transaction that runs it plans it for its own rows.
_CUSTOM_PLAN = text("SET LOCAL plan_cache_mode = force_custom_plan")
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
    inserted = _insert_submissions(session, _json_array([wire(e) for e in latest.values()]))
    return [e for e in latest.values() if e.submission_id in inserted]


def record_submissions(session: Session, events: Sequence[bytes]) -> list[UUID]:
    """Store submissions given in their wire form, in the session's transaction, each once (one there
    already is left as it is); returns the ids among them that the log holds under another text."""
    rows = _json_array(events)
    if len(_insert_submissions(session, rows)) == len(events):
        return []
    return list(session.scalars(_HELD_UNDER_ANOTHER_TEXT, {"rows": rows}))


def _insert_submissions(session: Session, rows: str) -> set[UUID]:
    """Insert the submissions of a JSON array of wire forms, planned for these rows; the ids inserted."""
    session.execute(_CUSTOM_PLAN)
    return set(session.scalars(_INSERT_SUBMISSIONS, {"rows": rows}))


def _json_array(events: Sequence[bytes]) -> str:
    return (b"[" + b",".join(events) + b"]").decode()


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
