"""Score one micro-batch of submissions and send the results: one [scores] event per text scored,
one dead letter per text the detector failed on alone (see `isolate`). Shared by the live scoring
worker and by replay, so both batch, isolate and label the same way. Nothing is flushed here: the
caller decides when its output must be durable.
"""

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from schemas.events import ScoreEvent, SubmissionEvent
from schemas.topics import Topics
from scorer.detectors.base import Detector
from scorer.isolate import score_isolating
from stream.dead_letter import send_dead_letter_from
from stream.producer import EventProducer

__all__ = ["BatchOutcome", "Job", "score_jobs"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    """A submission to score, with where it came from (`topic[partition]@offset`, or the log
    database) and its original bytes, for a dead letter."""

    event: SubmissionEvent
    where: str
    payload: bytes


class BatchOutcome(NamedTuple):
    scored: int
    failed: int
    seconds: float  # model time of the batch
    tokens: int  # tokens the detector read for the texts it scored


def score_jobs(
    detector: Detector,
    jobs: Sequence[Job],
    producer: EventProducer,
    topics: Topics,
    *,
    replayed: bool = False,
) -> BatchOutcome:
    """Score `jobs` as one batch and queue the results."""
    if not jobs:
        return BatchOutcome(0, 0, 0.0, 0)
    spec = f"{detector.name}@{detector.version}"
    started = time.perf_counter()
    scored, failed = score_isolating(detector, jobs, [job.event.text for job in jobs])
    seconds = time.perf_counter() - started
    latency_ms = seconds * 1000
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
            confidence=verdict.confidence,
            segments=list(verdict.segments),
            replayed=replayed,
            latency_ms=latency_ms,
            submitted_at=job.event.submitted_at,
        )
        producer.send(topics.scores, str(job.event.submission_id), score)
        log.info(
            "scored submission %s: probability %.3f, %s, %d tokens, by %s",
            job.event.submission_id,
            verdict.probability,
            verdict.label,
            verdict.n_tokens,
            spec,
            extra={"submission_id": str(job.event.submission_id)},
        )
    for job, reason in failed:
        send_dead_letter_from(
            producer,
            topics,
            where=job.where,
            payload=job.payload,
            stage="scorer",
            reason=f"{spec}: {reason}" if replayed else reason,
            submission_id=job.event.submission_id,
            detector=spec,
        )
    log.info("scored %d texts in %.0f ms (%d failed)", len(scored), latency_ms, len(failed))
    return BatchOutcome(len(scored), len(failed), seconds, sum(verdict.n_tokens for _, verdict in scored))
