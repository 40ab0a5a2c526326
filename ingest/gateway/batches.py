"""HTTP bulk intake: an NDJSON body, read as a stream of chunks (never whole), becomes one batch.

Each line is a JSON object like the body of `POST /v1/texts` (`text`, optional `lang`, `external_id`,
`detector` and `callback_url`). A bad line is rejected with its number and reason and the rest go on. Good lines
are produced with at most `batch_max_in_flight` events awaiting the broker at once, so a slow
broker slows the upload down (each first recorded in the log database when the broker is volatile).
The answer comes once every accepted line is durable in the topic.
Blank lines are skipped. The batch ledger hears of the batch at its first line, and at the end
(also when the client goes away mid-body: what was accepted until then stays accepted).
"""

import asyncio
import json
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from fastapi.concurrency import run_in_threadpool
from pydantic import ValidationError

from ingest.bulk.ledger import BatchLedger
from ingest.bulk.lines import Line, LineSplitter
from ingest.gateway.auth import Caller
from ingest.gateway.detectors import DetectorCatalogue
from ingest.gateway.idempotency import batch_id_for, line_submission_id
from ingest.gateway.ratelimit import RateLimited
from ingest.gateway.settings import GatewaySettings
from ingest.recorder import WRITE_ERRORS, GroupRecorder, write_submission
from schemas.api import BatchAccepted, LineReject, SubmitRequest
from schemas.errors import InputError, RecordedNotQueued
from schemas.events import SubmissionEvent
from schemas.text import too_long
from schemas.topics import Topics
from stream.producer import AsyncEventProducer

__all__ = ["BATCH_NAME", "MAX_LISTED_REJECTS", "BatchIntake"]

log = logging.getLogger(__name__)

BATCH_NAME = "POST /v1/batches"
MAX_LISTED_REJECTS = 1000


def _reason(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"])
    return f"{where}: {error['msg']}" if where else error["msg"]


@dataclass
class _Intake:
    batch_id: uuid.UUID
    ledger: BatchLedger
    caller: Caller
    keyed: bool = False
    out_of_quota: str | None = None  # why the lines from here on are rejected
    opened: bool = False
    accepted: int = 0
    rejected: int = 0
    rejects: list[LineReject] = field(default_factory=list)
    pending: set[asyncio.Task[tuple[int, str | None]]] = field(default_factory=set)

    def reject(self, line: int, reason: str) -> None:
        self.rejected += 1
        if len(self.rejects) < MAX_LISTED_REJECTS:
            self.rejects.append(LineReject(line=line, reason=reason))


@dataclass(frozen=True)
class BatchIntake:
    producer: AsyncEventProducer
    topics: Topics
    settings: GatewaySettings
    detectors: DetectorCatalogue
    recorder: GroupRecorder | None = None  # set when the broker is volatile
    webhooks_on: bool = False  # False: a line naming a callback_url is rejected

    async def ingest(
        self, chunks: AsyncIterator[bytes], ledger: BatchLedger, caller: Caller, idempotency_key: str | None = None
    ) -> BatchAccepted | None:
        """Read the body; None when it held no lines at all. With a key, the batch and its lines keep
        their ids when the same body is sent again (idempotency.py). Each line counts against the caller's
        quota; the lines past it are rejected with the reason."""
        intake = _Intake(
            batch_id=batch_id_for(idempotency_key, caller.tenant),
            ledger=ledger,
            caller=caller,
            keyed=idempotency_key is not None,
        )
        splitter = LineSplitter(self.settings.max_body_bytes)  # a line is one text's body
        try:
            async for chunk in chunks:
                for line in splitter.feed(chunk):
                    await self._line(intake, line)
            for line in splitter.end():
                await self._line(intake, line)
        finally:
            await self._settle(intake, intake.pending)
            if intake.opened:
                await run_in_threadpool(
                    ledger.record_progress,
                    intake.batch_id,
                    submitted=intake.accepted,
                    rejected=intake.rejected,
                    duplicates=0,
                    finished=True,
                )
        if not intake.opened:
            return None
        intake.rejects.sort(key=lambda r: r.line)
        return BatchAccepted(
            batch_id=intake.batch_id,
            accepted=intake.accepted,
            rejected=intake.rejected,
            rejects=intake.rejects,
            href=f"/v1/batches/{intake.batch_id}",
        )

    async def _line(self, intake: _Intake, line: Line) -> None:
        if line.data is not None and not line.data.strip():
            return
        if not intake.opened:
            await run_in_threadpool(intake.ledger.open_batch, intake.batch_id, BATCH_NAME, intake.caller.tenant)
            intake.opened = True
        if line.data is None:
            intake.reject(line.number, "the line is too long")
            return
        if line.number > self.settings.batch_max_lines:
            intake.reject(line.number, f"past the limit of {self.settings.batch_max_lines} lines a batch")
            return
        try:  # json.loads, as for POST /v1/texts: a lone surrogate gets the intake's reason, not a parser's
            body = SubmitRequest.model_validate(json.loads(line.data))
        except ValueError as exc:  # json.JSONDecodeError and ValidationError alike
            intake.reject(line.number, _reason(exc) if isinstance(exc, ValidationError) else f"not valid JSON: {exc}")
            return
        if reason := too_long(body.text, self.settings.max_text_chars):
            intake.reject(line.number, reason)
            return
        try:
            detector = self.detectors.resolve(body.detector)
        except InputError as exc:
            intake.reject(line.number, f"detector: {exc}")
            return
        try:
            callback_url = intake.caller.callback(body.callback_url, self.webhooks_on)
        except InputError as exc:
            intake.reject(line.number, str(exc))
            return
        if intake.out_of_quota is None:
            try:
                await intake.caller.use_quota(1)
            except RateLimited as exc:
                intake.out_of_quota = str(exc)
        if intake.out_of_quota is not None:
            intake.reject(line.number, intake.out_of_quota)
            return
        event = SubmissionEvent(
            submission_id=line_submission_id(intake.batch_id, line.number, intake.keyed),
            text=body.text,
            lang=body.lang,
            external_id=body.external_id,
            source="bulk",
            batch_id=intake.batch_id,
            detector=detector,
            normalised=list(body.normalised),
            tenant=intake.caller.tenant,
            callback_url=callback_url,
        )
        intake.pending.add(asyncio.create_task(self._send(line.number, event)))
        if len(intake.pending) >= self.settings.batch_max_in_flight:
            done, intake.pending = await asyncio.wait(intake.pending, return_when=asyncio.FIRST_COMPLETED)
            await self._settle(intake, done)

    async def _send(self, line: int, event: SubmissionEvent) -> tuple[int, str | None]:
        try:
            await write_submission(self.producer, self.topics.submissions, event, self.recorder)
        except RecordedNotQueued as exc:  # durable in the log, re-enqueued from there: accepted
            log.warning("batch line %d: %s", line, exc)
        except WRITE_ERRORS as exc:
            return line, f"the event log did not accept it: {exc or 'timed out'}"
        return line, None

    async def _settle(self, intake: _Intake, tasks: set[asyncio.Task[tuple[int, str | None]]]) -> None:
        for line, error in await asyncio.gather(*tasks):
            if error is None:
                intake.accepted += 1
            else:
                intake.reject(line, error)
        intake.pending -= tasks
