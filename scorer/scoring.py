"""Score one micro-batch of submissions and send the results: one [scores] event per text scored,
one dead letter per text the detector failed on alone (see `isolate`). Shared by the live scoring
worker and by replay, so both batch, isolate and label the same way. Nothing is flushed here: the
caller decides when its output must be durable.
"""

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

from schemas.events import ScoreEvent, SubmissionEvent
from schemas.topics import Topics
from scorer.detectors.base import Detector
from scorer.isolate import score_isolating
from stream.dead_letter import send_dead_letter_from
from stream.producer import EventProducer

__all__ = ["Job", "score_jobs"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    """A submission to score, with where it came from (`topic[partition]@offset`, or the log
    database) and its original bytes, for a dead letter."""

    event: SubmissionEvent
    where: str
    payload: bytes


def score_jobs(
    detector: Detector,
    jobs: Sequence[Job],
    producer: EventProducer,
    topics: Topics,
    *,
    replayed: bool = False,
) -> tuple[int, int]:
    """Score `jobs` as one batch and queue the results; returns (scored, failed)."""
    if not jobs:
        return 0, 0
    started = time.perf_counter()
    scored, failed = score_isolating(detector, jobs, [job.event.text for job in jobs])
    latency_ms = (time.perf_counter() - started) * 1000
    for job, verdict in scored:
        score = ScoreEvent(
            submission_id=job.event.submission_id,
            detector_name=detector.name,
            detector_version=detector.version,
            probability=verdict.probability,
            label=verdict.label,
            n_tokens=verdict.n_tokens,
            lang=verdict.lang,
            too_short=verdict.too_short,
            replayed=replayed,
            latency_ms=latency_ms,
            submitted_at=job.event.submitted_at,
        )
        producer.send(topics.scores, str(job.event.submission_id), score)
    for job, reason in failed:
        send_dead_letter_from(
            producer,
            topics,
            where=job.where,
            payload=job.payload,
            stage="scorer",
            reason=f"{detector.name}@{detector.version}: {reason}" if replayed else reason,
            submission_id=job.event.submission_id,
        )
    log.info("scored %d texts in %.0f ms (%d failed)", len(scored), latency_ms, len(failed))
    return len(scored), len(failed)
