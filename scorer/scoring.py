"""Score one micro-batch of submissions and send the results: one [scores] event per text scored,
one dead letter per text the detector failed on alone (see `isolate`). Shared by the live scoring
worker and by replay, so both batch, isolate and label the same way. Nothing is flushed here: the
caller decides when its output must be durable.

The live scorer runs the two halves apart, on two threads (scorer/worker.py): `run_model` on the
texts its detector prepared, then `send_outcome`; replay scores each batch whole (`score_jobs`).
"""

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, NamedTuple

from schemas.detector_spec import DetectorSpec
from schemas.events import ScoreEvent, SubmissionEvent, content_hash
from schemas.topics import Topics
from schemas.verdict import Verdict
from scorer.detectors.base import Detector
from scorer.isolate import score_isolating
from scorer.window import MAX_READ_CHARS, Window, read_window
from stream.dead_letter import send_dead_letter_from
from stream.producer import EventProducer

__all__ = ["BatchOutcome", "Job", "ModelOutcome", "estimated_tokens", "run_model", "score_jobs", "send_outcome"]

log = logging.getLogger(__name__)

BYTES_PER_TOKEN = 4


def estimated_tokens(payload: bytes) -> int:
    """The tokens a submission's event will cost the model, from its size: UTF-8 bytes / 4, about right
    for English and high for Russian, which is the safe side, and no more than a read window of
    two-byte characters (window.py). What closes micro-batches, live and in replay."""
    return min(len(payload), 2 * MAX_READ_CHARS) // BYTES_PER_TOKEN


@dataclass(frozen=True)
class Job:
    """A submission to score, with where it came from (`topic[partition]@offset`, or the log
    database) and its original bytes, for a dead letter."""

    event: SubmissionEvent
    where: str
    payload: bytes

    @cached_property
    def window(self) -> Window:
        """What the detector reads of the text (window.py)."""
        return read_window(self.event.text)


class BatchOutcome(NamedTuple):
    scored: int
    failed: int
    seconds: float  # model time of the batch
    tokens: int  # tokens the detector read for the texts it scored


class ModelOutcome(NamedTuple):
    scored: list[tuple[Job, Verdict]]
    failed: list[tuple[Job, str]]  # with the reason
    seconds: float  # model time of the batch


def run_model(
    score: Callable[[Sequence[Any]], list[Verdict]], name: str, jobs: Sequence[Job], inputs: Sequence[Any]
) -> ModelOutcome:
    """Score `jobs` as one batch: `score` is the detector's `score` or `score_prepared` (base.py `stages`),
    `inputs` what it reads of each job."""
    started = time.perf_counter()
    scored, failed = score_isolating(score, jobs, inputs, name)
    return ModelOutcome(scored, failed, time.perf_counter() - started)


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
    outcome = run_model(detector.score, detector.name, jobs, [job.window.text for job in jobs])
    return send_outcome(detector, outcome, producer, topics, replayed=replayed)


def send_outcome(
    detector: Detector, outcome: ModelOutcome, producer: EventProducer, topics: Topics, *, replayed: bool = False
) -> BatchOutcome:
    """Queue a [scores] event per text scored and a dead letter per text failed."""
    spec = str(DetectorSpec(detector.name, detector.version))
    scored, failed = outcome.scored, outcome.failed
    latency_ms = outcome.seconds * 1000
    for job, verdict in scored:
        score = ScoreEvent.of(
            verdict,
            submission_id=job.event.submission_id,
            detector_name=detector.name,
            detector_version=detector.version,
            read_chars=job.window.read_chars,
            replayed=replayed,
            latency_ms=latency_ms,
            submitted_at=job.event.submitted_at,
            tenant=job.event.tenant,
            content_hash=content_hash(job.event.text),
            callback_url=None if replayed else job.event.callback_url,  # a replay's verdicts are not pushed
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
    tokens = sum(verdict.n_tokens for _, verdict in scored)
    return BatchOutcome(len(scored), len(failed), outcome.seconds, tokens)
