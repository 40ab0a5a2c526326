"""The one way every route submits a text: validate its length, write the event durably (first into
the log database when the broker is volatile: ingest/recorder.py), and optionally wait for its score.
Shared by `/v1` and the legacy routes."""

import asyncio
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from fastapi import HTTPException, status
from fastapi.concurrency import run_in_threadpool

from ingest.gateway.metrics import GatewayMetrics
from ingest.gateway.settings import GatewaySettings
from ingest.gateway.waiter import ScoreWaiter
from ingest.recorder import SubmissionRecorder
from schemas.errors import DeliveryError, ServiceUnavailable
from schemas.events import ScoreEvent, Source, SubmissionEvent
from schemas.topics import Topics
from stream.producer import AsyncEventProducer

__all__ = ["Submitter", "SyncTimeout"]

log = logging.getLogger(__name__)


class SyncTimeout(Exception):
    """A synchronous request's score did not arrive in time (the text is still scored)."""

    def __init__(self, submission_id: uuid.UUID) -> None:
        super().__init__(submission_id)
        self.submission_id = submission_id


@dataclass(frozen=True)
class Submitter:
    producer: AsyncEventProducer
    waiter: ScoreWaiter
    topics: Topics
    settings: GatewaySettings
    metrics: GatewayMetrics
    recorder: SubmissionRecorder | None = None  # set when the broker is volatile

    async def submit(
        self,
        text: str,
        *,
        source: Source,
        lang: str | None = None,
        external_id: str | None = None,
        detector: str | None = None,
        normalised: Sequence[str] = (),
        submission_id: uuid.UUID | None = None,
        wait_s: float = 0.0,
    ) -> tuple[SubmissionEvent, ScoreEvent | None]:
        """Returns once the event is durable; with `wait_s`, also its score if it came in time.
        `detector` is the NAME@VERSION asked for (resolved by the catalogue), None for the default;
        `submission_id` is given for an idempotent retry (idempotency.py), else a fresh one is made."""
        if len(text) > self.settings.max_text_chars:
            raise HTTPException(
                status.HTTP_413_CONTENT_TOO_LARGE,
                f"text has {len(text)} characters; the maximum is {self.settings.max_text_chars}",
            )
        event = SubmissionEvent(
            submission_id=submission_id or uuid.uuid4(),
            text=text,
            lang=lang,
            external_id=external_id,
            source=source,
            detector=detector,
            normalised=list(normalised),
        )
        scored = self.waiter.expect(event.submission_id) if wait_s > 0 else None
        try:
            if self.recorder is not None:
                await run_in_threadpool(self.recorder.record, [event])
            await self.producer.send(
                self.topics.submissions, str(event.submission_id), event, timestamp=event.submitted_at
            )
            self.metrics.submissions.labels(source).inc()
            log.info(
                "accepted submission %s (source %s, %d chars)",
                event.submission_id,
                source,
                len(text),
                extra={"submission_id": str(event.submission_id)},
            )
            if scored is None:
                return event, None
            try:
                return event, await asyncio.wait_for(asyncio.shield(scored), wait_s)
            except TimeoutError:
                return event, None
        except (DeliveryError, ServiceUnavailable, TimeoutError) as exc:
            log.warning(
                "the log did not accept submission %s: %s",
                event.submission_id,
                exc,
                extra={"submission_id": str(event.submission_id)},
            )
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE, f"the event log did not accept the text: {exc}"
            ) from exc
        finally:
            self.waiter.forget(event.submission_id)

    async def submit_and_wait(
        self, text: str, *, source: Source, normalised: Sequence[str] = ()
    ) -> tuple[SubmissionEvent, ScoreEvent]:
        """For the synchronous contracts: raises `SyncTimeout` when the score is late."""
        event, score = await self.submit(
            text, source=source, normalised=normalised, wait_s=self.settings.sync_timeout_s
        )
        if score is None:
            raise SyncTimeout(event.submission_id)
        return event, score
