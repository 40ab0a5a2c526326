"""Re-scoring for a replay: submissions offered one at a time (from the topic or from the log
database), those inside the window gathered into micro-batches closed as the live scorer closes them
(`max_batch` texts or `max_batch_tokens` estimated tokens, whichever comes first) and scored by
`score_jobs`, exactly as the live scorer does, with the scores marked `replayed`.

Nothing is committed anywhere: the scores go to [scores], where the sink stores them beside the
earlier ones (one row per submission and detector version), so running a replay again adds nothing.
"""

import logging
from dataclasses import dataclass, replace
from datetime import datetime

from schemas.events import SubmissionEvent
from schemas.topics import Topics
from scorer.detectors.base import Detector
from scorer.scoring import Job, estimated_tokens, score_jobs
from stream.producer import EventProducer

__all__ = ["RescoreCounts", "Rescorer"]

log = logging.getLogger(__name__)


@dataclass
class RescoreCounts:
    read: int = 0  # submissions offered
    in_window: int = 0
    scored: int = 0
    failed: int = 0


class Rescorer:
    def __init__(
        self,
        detector: Detector,
        producer: EventProducer,
        topics: Topics,
        *,
        since: datetime,
        until: datetime | None,
        max_batch: int,
        max_batch_tokens: int = 16_384,
    ) -> None:
        self.counts = RescoreCounts()
        self._detector = detector
        self._producer = producer
        self._topics = topics
        self._since = since
        self._until = until
        self._max_batch = max_batch
        self._max_batch_tokens = max_batch_tokens
        self._batch: list[Job] = []
        self._batch_tokens = 0

    def offer(self, event: SubmissionEvent, where: str, payload: bytes) -> None:
        """Count it as read; score it with the batch it joins when it is in the window."""
        self.counts.read += 1
        if event.submitted_at < self._since or (self._until is not None and event.submitted_at >= self._until):
            return
        self.counts.in_window += 1
        tokens = estimated_tokens(payload)
        if self._batch and self._batch_tokens + tokens > self._max_batch_tokens:
            self._score()  # this one would take the batch past its budget: it opens the next
        self._batch.append(Job(event, where, payload))
        self._batch_tokens += tokens
        if len(self._batch) >= self._max_batch:
            self._score()

    def finish(self) -> RescoreCounts:
        """Score what is left and wait until every score is durable in [scores]."""
        self._score()
        self._producer.flush()
        return replace(self.counts)

    def _score(self) -> None:
        outcome = score_jobs(self._detector, self._batch, self._producer, self._topics, replayed=True)
        self.counts.scored += outcome.scored
        self.counts.failed += outcome.failed
        self._batch, self._batch_tokens = [], 0
        self._producer.poll(0)
