"""The PostgreSQL side of `ingest.recorder`: intakes write submissions straight into the log when the
broker is volatile (the embedded one). The same idempotent insert as the sink's, so the sink's later
write of the same event is a no-op."""

from collections.abc import Sequence

from sqlalchemy import Engine
from sqlalchemy.exc import DataError, OperationalError
from sqlalchemy.orm import Session

from schemas.errors import InputError, ServiceUnavailable
from schemas.events import SubmissionEvent
from store.writer import write_submissions
from stream.settings import KafkaSettings

__all__ = ["SqlSubmissionRecorder", "recorder_for"]


class SqlSubmissionRecorder:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def record(self, events: Sequence[SubmissionEvent]) -> None:
        try:
            with Session(self._engine) as session, session.begin():
                write_submissions(session, events)
        except OperationalError as exc:
            raise ServiceUnavailable(f"the log database did not record the submission: {exc.orig}") from exc
        except DataError as exc:  # a value the event model let through and PostgreSQL refuses: never retried
            raise InputError(f"the log database refused the submission: {exc.orig}") from exc


def recorder_for(kafka: KafkaSettings, engine: Engine) -> SqlSubmissionRecorder | None:
    """The recorder an intake needs: one when the broker is volatile, else None (the topic is durable)."""
    return SqlSubmissionRecorder(engine) if kafka.volatile else None
