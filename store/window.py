"""Submissions read back from the log database as the events that carried them: those of a time
window (what a replay re-scores when the topic no longer holds the window) and those not scored or
failed yet (what `up` re-enqueues after the embedded broker forgot its topics). Read in keyset pages on
(submitted_at, id), so memory stays flat and rows stored meanwhile cannot shift a page. A database that
does not answer raises `ServiceUnavailable`."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Engine, exists, func, select, tuple_

from schemas.events import SubmissionEvent
from store.db import reading
from store.models import Failure, Score, Submission

__all__ = ["WindowStats", "iter_unscored", "iter_window", "window_stats"]


def _in_window(since: datetime, until: datetime | None) -> list[ColumnElement[bool]]:
    conditions = [Submission.submitted_at >= since]
    if until is not None:
        conditions.append(Submission.submitted_at < until)
    return conditions


@dataclass(frozen=True)
class WindowStats:
    count: int
    earliest: datetime | None


def window_stats(engine: Engine, since: datetime, until: datetime | None) -> WindowStats:
    """How many submissions of the window the log holds, and the earliest one's time."""
    with reading(engine) as session:
        count, earliest = session.execute(
            select(func.count(), func.min(Submission.submitted_at)).where(*_in_window(since, until))
        ).one()
    return WindowStats(count, earliest)


def iter_window(engine: Engine, since: datetime, until: datetime | None, page: int = 1000) -> Iterator[SubmissionEvent]:
    """The window's submissions in time order."""
    return _events(engine, _in_window(since, until), page)


def iter_unscored(engine: Engine, page: int = 1000, before: datetime | None = None) -> Iterator[SubmissionEvent]:
    """The submissions with neither a score nor a failure (submitted before `before`, if given), in time order."""
    conditions = [
        ~exists().where(Score.submission_id == Submission.id),
        ~exists().where(Failure.submission_id == Submission.id),
    ]
    if before is not None:
        conditions.append(Submission.submitted_at < before)
    return _events(engine, conditions, page)


def _events(engine: Engine, conditions: list[ColumnElement[bool]], page: int) -> Iterator[SubmissionEvent]:
    after: tuple[datetime, object] | None = None
    while True:
        query = select(Submission).where(*conditions)
        if after is not None:
            query = query.where(tuple_(Submission.submitted_at, Submission.id) > after)
        with reading(engine) as session:
            rows = session.scalars(query.order_by(Submission.submitted_at, Submission.id).limit(page)).all()
        for row in rows:
            yield SubmissionEvent(
                submission_id=row.id,
                text=row.text,
                lang=row.lang,
                external_id=row.external_id,
                source=row.source,
                batch_id=row.batch_id,
                correlation_id=row.correlation_id,
                detector=row.detector,
                tenant=row.tenant,
                normalised=row.normalised,
                document_id=row.document_id,
                callback_url=row.callback_url,
                submitted_at=row.submitted_at,
            )
        if len(rows) < page:
            return
        after = (rows[-1].submitted_at, rows[-1].id)
