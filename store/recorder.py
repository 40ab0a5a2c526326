"""The PostgreSQL side of `ingest.recorder`: intakes write submissions straight into the log when the
broker is volatile (the embedded one). An intake's submissions are new (fresh ids, each recorded
before it is sent), so they go in by `COPY`, the cheapest way in (store/writer.py); when one of them is
there already (a retry under an Idempotency-Key, a resent task, a commit whose answer was lost) the
transaction is rolled back and the group written again by the sink's idempotent insert, which compares
the stored text. Either way the sink's later write of the same event is a no-op."""

from collections.abc import Sequence

import psycopg
from psycopg.errors import UniqueViolation
from sqlalchemy import Engine, select
from sqlalchemy.exc import DataError
from sqlalchemy.orm import Session

from schemas.errors import InputError, ServiceUnavailable
from schemas.events import SubmissionEvent, content_hash
from store.db import UNAVAILABLE
from store.models import Submission
from store.writer import copy_submissions, write_submissions
from stream.settings import KafkaSettings

__all__ = ["SqlSubmissionRecorder", "recorder_for"]


class SqlSubmissionRecorder:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def record(self, events: Sequence[SubmissionEvent]) -> None:
        """Raises `InputError` when the log holds another text under one of the events' ids (an
        Idempotency-Key reused for another text): checked in the insert's transaction, so two racing
        requests cannot both pass."""
        try:
            try:
                with Session(self._engine) as session, session.begin():
                    copy_submissions(session, events)
                return
            except UniqueViolation:
                pass  # one of them is there already: the insert below skips it and compares its text
            with Session(self._engine) as session, session.begin():
                inserted = {e.submission_id for e in write_submissions(session, events)}
                held = {e.submission_id: content_hash(e.text) for e in events if e.submission_id not in inserted}
                if held:
                    query = select(Submission.id, Submission.content_hash).where(Submission.id.in_(held))
                    for submission_id, stored in session.execute(query):
                        if stored != held[submission_id]:
                            raise InputError(
                                f"submission {submission_id} holds another text: its Idempotency-Key (or task id) "
                                "was used for a different text"
                            )
        except UNAVAILABLE as exc:
            reason = getattr(exc, "orig", None) or exc
            raise ServiceUnavailable(f"the log database did not record the submission: {reason}") from exc
        except (DataError, psycopg.DataError) as exc:  # a value the event model let through and PostgreSQL refuses
            raise InputError(f"the log database refused the submission: {getattr(exc, 'orig', exc)}") from exc


def recorder_for(kafka: KafkaSettings, engine: Engine) -> SqlSubmissionRecorder | None:
    """The recorder an intake needs: one when the broker is volatile, else None (the topic is durable)."""
    return SqlSubmissionRecorder(engine) if kafka.volatile else None
