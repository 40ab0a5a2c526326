"""The PostgreSQL side of `ingest.recorder`: intakes write submissions straight into the log when the
broker is volatile (the embedded one), from the events' wire form, the bytes they then send
(store/writer.py `record_submissions`): the sink's idempotent insert, one statement a group, which skips
a submission the log holds already (a retry under an Idempotency-Key, a resent task, a commit whose
answer was lost), and then, only when it skipped one, a statement naming those held under another text.
Either way the sink's later write of the same event is a no-op."""

from collections.abc import Sequence

from sqlalchemy import Engine
from sqlalchemy.exc import DataError
from sqlalchemy.orm import Session

from schemas.errors import InputError, ServiceUnavailable
from store.db import UNAVAILABLE
from store.writer import record_submissions
from stream.settings import KafkaSettings

__all__ = ["SqlSubmissionRecorder", "recorder_for"]


class SqlSubmissionRecorder:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def record(self, events: Sequence[bytes]) -> None:
        """Raises `InputError` when the log holds another text under one of the events' ids (an
        Idempotency-Key reused for another text): checked in the insert's transaction, by a statement
        after it that sees a racing request's committed row, so two racing requests cannot both pass."""
        try:
            with Session(self._engine) as session, session.begin():
                if held := record_submissions(session, events):
                    raise InputError(
                        f"submission {held[0]} holds another text: its Idempotency-Key (or task id) "
                        "was used for a different text"
                    )
        except UNAVAILABLE as exc:
            reason = getattr(exc, "orig", None) or exc  # a pool timeout has no driver error
            raise ServiceUnavailable(f"the log database did not record the submission: {reason}") from exc
        except DataError as exc:  # a value the event model let through and PostgreSQL refuses
            reason = str(exc.orig).splitlines()[0]
            raise InputError(f"the log database refused the submission: {reason}") from exc


def recorder_for(kafka: KafkaSettings, engine: Engine) -> SqlSubmissionRecorder | None:
    """The recorder an intake needs: one when the broker is volatile, else None (the topic is durable)."""
    return SqlSubmissionRecorder(engine) if kafka.volatile else None
