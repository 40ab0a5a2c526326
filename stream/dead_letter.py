"""Dead letters: a record a worker cannot process goes to [dead-letter] with the reason, its
origin (`topic[partition]@offset`, or where else the text came from) and the detector that failed on
it, in the event and in headers, before its offset is committed. The sink stores each as a failure row
keyed by what it is about (`DeadLetterEvent.subject`).
"""

import logging
from uuid import UUID

from confluent_kafka import Message

from schemas.events import DeadLetterEvent
from schemas.topics import Topics
from stream.consumer import origin
from stream.producer import EventProducer

__all__ = ["send_dead_letter", "send_dead_letter_from"]

log = logging.getLogger(__name__)


def send_dead_letter(
    producer: EventProducer,
    topics: Topics,
    record: Message,
    *,
    stage: str,
    reason: str,
    submission_id: UUID | None = None,
    detector: str | None = None,
) -> None:
    """Queue a dead letter for `record`; the caller's `flush` makes it durable."""
    send_dead_letter_from(
        producer,
        topics,
        where=origin(record),
        payload=record.value() or b"",
        stage=stage,
        reason=reason,
        submission_id=submission_id,
        detector=detector,
    )


def send_dead_letter_from(
    producer: EventProducer,
    topics: Topics,
    *,
    where: str,
    payload: bytes,
    stage: str,
    reason: str,
    submission_id: UUID | None = None,
    detector: str | None = None,
) -> None:
    """Queue a dead letter for `payload`, which came from `where` (`detector`: NAME@VERSION that failed)."""
    event = DeadLetterEvent(
        submission_id=submission_id,
        stage=stage,
        reason=reason[:2000],
        origin=where,
        payload=payload.decode("utf-8", errors="replace"),
        detector=detector,
    )
    key = str(submission_id) if submission_id else where
    headers = {"veritext-stage": stage, "veritext-reason": reason[:500], "veritext-origin": where}
    producer.send(topics.dead_letter, key, event, headers)
    log.warning(
        "dead-lettered %s (submission %s): %s",
        where,
        submission_id,
        reason,
        extra={"submission_id": str(submission_id) if submission_id else None},
    )
