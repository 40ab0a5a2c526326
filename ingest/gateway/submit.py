"""The one way every route submits a text: validate its length, write the event durably (first into
the log database when the broker is volatile: ingest/recorder.py), and optionally wait for its score.
Shared by `/v1` and the legacy routes.

Backpressure lives here too. A submission is refused (`ServiceUnavailable`: a 503 with `Retry-After`, app.py) while
the scorers' backlog is past `max_backlog` (ingest/backlog.py), when `max_sync_waits` requests already
wait for their score or, with API keys on, `max_sync_waits_per_key` of one key do (so one key cannot
take every wait), and when the broker does not take the event (the producer's local queue is bounded
by `producer_queue`); nothing is written then, so a retry is safe. One 503 is different: the log database
recorded the text and the broker did not take it (`RecordedNotQueued`, a volatile broker only); the text
will be scored, and the 503 names its submission so the client polls it instead of sending it again."""

import asyncio
import logging
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from ingest.backlog import BacklogMonitor
from ingest.gateway.metrics import GatewayMetrics
from ingest.gateway.settings import GatewaySettings
from ingest.gateway.waiter import ScoreWaiter
from ingest.recorder import WRITE_ERRORS, GroupRecorder, write_submission
from schemas.errors import RecordedNotQueued, ServiceUnavailable, TooLarge
from schemas.events import ScoreEvent, Source, SubmissionEvent
from schemas.text import too_long
from schemas.topics import Topics
from stream.producer import AsyncEventProducer

__all__ = ["Submitter", "SyncTimeout"]

log = logging.getLogger(__name__)


class SyncTimeout(Exception):
    """A synchronous request's score did not arrive in time (the text is still scored)."""

    def __init__(self, submission_id: uuid.UUID) -> None:
        super().__init__(submission_id)
        self.submission_id = submission_id


@dataclass
class Submitter:
    producer: AsyncEventProducer
    waiter: ScoreWaiter
    topics: Topics
    settings: GatewaySettings
    metrics: GatewayMetrics
    recorder: GroupRecorder | None = None  # set when the broker is volatile
    backlog: BacklogMonitor | None = None
    webhooks_on: bool = False  # the sinks deliver callbacks (VERITEXT_WEBHOOKS_SECRET is set): Caller.callback
    waiting: int = field(default=0, init=False)  # requests waiting for their score now
    waiting_by_key: Counter[str | None] = field(default_factory=Counter, init=False)  # of them, by tenant

    def refuse_when_behind(self) -> None:
        """Raise the 503 when the scorers are further behind than `max_backlog`."""
        if self.backlog is not None and self.backlog.over:
            raise ServiceUnavailable(
                f"the scorers are {self.backlog.texts} texts behind (the bound is {self.backlog.limit}); "
                "try again later"
            )

    async def submit(
        self,
        text: str,
        *,
        source: Source,
        tenant: str | None = None,
        lang: str | None = None,
        external_id: str | None = None,
        detector: str | None = None,
        normalised: Sequence[str] = (),
        submission_id: uuid.UUID | None = None,
        document_id: uuid.UUID | None = None,
        callback_url: str | None = None,
        wait_s: float = 0.0,
    ) -> tuple[SubmissionEvent, ScoreEvent | None]:
        """Returns once the event is durable; with `wait_s`, also its score if it came in time.
        `detector` is the NAME@VERSION asked for (resolved by the catalogue), None for the default;
        `submission_id` is given for an idempotent retry (idempotency.py), else a fresh one is made."""
        if reason := too_long(text, self.settings.max_text_chars):
            raise TooLarge(reason)
        self.refuse_when_behind()
        if wait_s > 0:
            self._refuse_past_the_wait_caps(tenant)
        event = SubmissionEvent(
            submission_id=submission_id or uuid.uuid4(),
            text=text,
            lang=lang,
            external_id=external_id,
            source=source,
            detector=detector,
            normalised=list(normalised),
            tenant=tenant,
            document_id=document_id,
            callback_url=callback_url,
        )
        scored = self.waiter.expect(event.submission_id) if wait_s > 0 else None
        self.waiting += scored is not None
        self.waiting_by_key[tenant] += scored is not None
        try:
            await write_submission(self.producer, self.topics.submissions, event, self.recorder)
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
        except WRITE_ERRORS as exc:
            log.warning(
                "the log did not accept submission %s: %s",
                event.submission_id,
                exc,
                extra={"submission_id": str(event.submission_id)},
            )
            if isinstance(exc, RecordedNotQueued):
                raise
            raise ServiceUnavailable(f"the event log did not accept the text: {exc}") from exc
        finally:
            if scored is not None:
                self.waiting -= 1
                self.waiting_by_key[tenant] -= 1
                if not self.waiting_by_key[tenant]:
                    del self.waiting_by_key[tenant]
                self.waiter.forget(event.submission_id, scored)

    def _refuse_past_the_wait_caps(self, tenant: str | None) -> None:
        later = "try again later, or submit without waiting and poll the text's href"
        if self.waiting >= self.settings.max_sync_waits:
            raise ServiceUnavailable(f"{self.waiting} requests already wait for their score (the limit); {later}")
        if tenant is not None and self.waiting_by_key[tenant] >= self.settings.max_sync_waits_per_key:
            raise ServiceUnavailable(
                f"{self.waiting_by_key[tenant]} requests of this key already wait for their score "
                f"(the limit per key); {later}"
            )

    async def submit_and_wait(
        self, text: str, *, source: Source, tenant: str | None = None, normalised: Sequence[str] = ()
    ) -> tuple[SubmissionEvent, ScoreEvent]:
        """For the synchronous contracts: raises `SyncTimeout` when the score is late."""
        event, score = await self.submit(
            text, source=source, tenant=tenant, normalised=normalised, wait_s=self.settings.sync_timeout_s
        )
        if score is None:
            raise SyncTimeout(event.submission_id)
        return event, score
