"""The RabbitMQ bridge: original clients put tasks on `ml_tasks`; the bridge writes each one to
[submissions] and answers it when its score appears on [scores]. A task is acknowledged only together
with its answer, in one AMQP transaction, so none is lost or answered twice (why, and at what price:
docs/decisions/bridge-acknowledgements.md). RabbitMQ lost: reconnection with backoff, and the unanswered
tasks come back by redelivery; wrong credentials are a `ConfigError`."""

import asyncio
import logging
import threading
from dataclasses import dataclass
from uuid import UUID

import aio_pika
from aio_pika.abc import AbstractIncomingMessage
from aiormq.exceptions import ProbableAuthenticationError

from ingest.bridge.messages import BridgeTask, ErrorReply, MalformedTask, ScoreReply, parse_task
from ingest.bridge.metrics import BridgeMetrics
from ingest.bridge.outcomes import Outcome, OutcomeFollower
from ingest.bridge.replies import LOST, AmqpSession
from ingest.bridge.settings import BridgeSettings
from ingest.recorder import WRITE_ERRORS, GroupRecorder, SubmissionRecorder, write_submission
from schemas.errors import ConfigError, InputError
from schemas.events import ScoreEvent, SubmissionEvent
from schemas.secrets import safe_url
from stream.producer import AsyncEventProducer
from stream.settings import KafkaSettings

__all__ = ["Bridge"]

log = logging.getLogger(__name__)


@dataclass(eq=False)
class _Waiting:
    task: BridgeTask
    message: AbstractIncomingMessage
    session: AmqpSession


class Bridge:
    """Run with `run()` (blocks until `stop` is set); one asyncio loop, plus the Kafka threads."""

    def __init__(
        self,
        settings: BridgeSettings,
        kafka: KafkaSettings,
        metrics: BridgeMetrics | None = None,
        recorder: SubmissionRecorder | None = None,
    ) -> None:
        """`recorder`: when the broker is volatile, each task is recorded in the log database before it
        is written to the topic (ingest/recorder.py): a task answered and acknowledged just before the
        broker died would otherwise be missing from the log."""
        if settings.url is None:
            raise ConfigError("VERITEXT_RABBITMQ_URL is not set; set it to amqp://USER:PASSWORD@HOST:5672/")
        self._settings = settings
        self._url = settings.url
        self._where = safe_url(settings.url)
        self._kafka = kafka
        self._recorder = GroupRecorder(recorder) if recorder is not None else None
        self.metrics = metrics or BridgeMetrics()
        self._follower = OutcomeFollower(kafka, self.metrics.lag.consumer_config(commits=False))
        self._producer: AsyncEventProducer | None = None
        self._session: AmqpSession | None = None
        self._waiting: dict[UUID, list[_Waiting]] = {}
        self._answering: set[asyncio.Task[None]] = set()
        self.answered = 0
        self.stop = threading.Event()

    def run(self) -> int:
        """Serve until `stop` is set; returns the number of tasks answered."""
        return asyncio.run(self._main())

    async def _main(self) -> int:
        self._producer = AsyncEventProducer(self._kafka, timeout_s=self._settings.produce_timeout_s)
        self._producer.start()
        try:
            self._follower.start(asyncio.get_running_loop(), self._on_outcome)
            await self._serve()
        finally:
            self._follower.close()
            self._producer.close()
        return self.answered

    async def _pause(self, seconds: float) -> None:
        """Sleep, but wake up at once when `stop` is set."""
        await asyncio.to_thread(self.stop.wait, seconds)

    async def _serve(self) -> None:
        delay = self._settings.reconnect_min_s
        while not self.stop.is_set():
            try:
                connection = await aio_pika.connect(self._url.get_secret_value(), timeout=10)
            except ProbableAuthenticationError as exc:
                raise ConfigError(f"RabbitMQ at {self._where} refused the credentials: {exc}") from None
            except (*LOST, OSError, TimeoutError) as exc:
                log.warning("RabbitMQ at %s is unreachable (%s); retrying in %.1f s", self._where, exc, delay)
                await self._pause(delay)
                delay = min(delay * 2, self._settings.reconnect_max_s)
                continue
            delay = self._settings.reconnect_min_s
            try:
                await self._consume(connection)
            except LOST as exc:
                log.warning("lost RabbitMQ at %s while setting up (%s)", self._where, exc)
            finally:
                if self._session is not None:
                    self._session.close()
                self._session = None
                self._waiting.clear()  # RabbitMQ redelivers the unanswered tasks
                self._follower.forget_all()
                await connection.close()
            if not self.stop.is_set():
                log.warning("connection to RabbitMQ at %s lost; reconnecting", self._where)

    async def _consume(self, connection: aio_pika.abc.AbstractConnection) -> None:
        session = await AmqpSession.open(connection, self._settings)
        self._session = session
        tag = await session.tasks.consume(self._on_message)
        log.info(
            "bridge consuming %s at %s (prefetch %d); answers to reply_to and exchange %s",
            self._settings.queue,
            self._where,
            self._settings.prefetch,
            self._settings.results_exchange,
        )
        while not self.stop.is_set() and not session.broken:
            await asyncio.sleep(0.1)
        if not session.broken:
            await session.tasks.cancel(tag)

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        session = self._session
        if session is None or session.broken:
            return  # its connection is gone: RabbitMQ redelivers it
        try:
            task = parse_task(
                message.body,
                message_id=message.message_id,
                correlation_id=message.correlation_id,
                reply_to=message.reply_to,
                max_text_chars=self._settings.max_text_chars,
            )
        except MalformedTask as exc:
            if await self._dead_letter(session, message, str(exc), ErrorReply(id=message.message_id, error=str(exc))):
                self.metrics.tasks.labels("malformed").inc()
                self.metrics.dead_letters.labels("bridge").inc()
            return
        waiting = _Waiting(task, message, session)
        self._waiting.setdefault(task.submission_id, []).append(waiting)
        self._follower.expect(task.submission_id)
        await self._submit(waiting)

    async def _submit(self, waiting: _Waiting) -> None:
        """Write the task to [submissions]; retry with backoff while it is still waiting."""
        assert self._producer is not None
        task = waiting.task
        event = SubmissionEvent(
            submission_id=task.submission_id,
            text=task.text,
            external_id=task.task_id,
            source="rabbitmq",
            correlation_id=task.correlation_id,
            reply_to=task.reply_to,
            normalised=list(task.normalised),
            tenant=self._settings.tenant,
        )
        delay = self._settings.reconnect_min_s
        while True:
            try:
                await write_submission(self._producer, self._kafka.topics.submissions, event, self._recorder)
                return
            except InputError as exc:  # refused for what it is: retrying cannot help, so it leaves the queue
                self._stop_waiting(waiting)
                reason = str(exc)
                error = ErrorReply(submission_id=task.submission_id, id=task.task_id, error=reason)
                if await self._dead_letter(waiting.session, waiting.message, reason, error):
                    self.metrics.tasks.labels("malformed").inc()
                    self.metrics.dead_letters.labels("bridge").inc()
                return
            except WRITE_ERRORS as exc:
                if self.stop.is_set() or waiting not in self._waiting.get(task.submission_id, ()):
                    return  # answered meanwhile, or left unacknowledged for redelivery
                log.warning("task %s not written to the log (%s); retrying in %.1f s", task.task_id, exc, delay)
                await self._pause(delay)
                delay = min(delay * 2, self._settings.reconnect_max_s)

    def _stop_waiting(self, waiting: _Waiting) -> None:
        others = self._waiting.get(waiting.task.submission_id, [])
        if waiting in others:
            others.remove(waiting)
        if not others:
            self._waiting.pop(waiting.task.submission_id, None)
            self._follower.forget(waiting.task.submission_id)

    def _on_outcome(self, outcome: Outcome) -> None:
        waiting = self._waiting.pop(outcome.submission_id, None)  # type: ignore[arg-type]
        if not waiting:
            return
        self._follower.forget(outcome.submission_id)  # type: ignore[arg-type]
        answering = asyncio.create_task(self._answer(waiting, outcome))
        self._answering.add(answering)
        answering.add_done_callback(self._answering.discard)

    async def _answer(self, waiting: list[_Waiting], outcome: Outcome) -> None:
        for w in waiting:
            task = w.task
            if isinstance(outcome, ScoreEvent):
                try:
                    await w.session.answer(
                        w.message,
                        ScoreReply.answer(task, outcome),
                        message_id=str(task.submission_id),
                        routing_key=f"score.{outcome.label}",
                    )
                    self.answered += 1
                    self.metrics.tasks.labels("answered").inc()
                except LOST as exc:
                    log.debug("could not answer task %s (%s); RabbitMQ redelivers it", task.task_id, exc)
            else:
                reason = f"scoring failed: {outcome.reason}"
                error = ErrorReply(submission_id=task.submission_id, id=task.task_id, error=reason)
                if await self._dead_letter(w.session, w.message, reason, error):
                    self.metrics.tasks.labels("failed").inc()

    async def _dead_letter(
        self, session: AmqpSession, message: AbstractIncomingMessage, reason: str, error: ErrorReply
    ) -> bool:
        """Dead-letter the task; False when the connection went first (RabbitMQ redelivers it)."""
        try:
            await session.dead_letter(message, reason, error)
        except LOST as exc:
            log.debug("could not dead-letter task %s (%s); RabbitMQ redelivers it", message.message_id, exc)
            return False
        return True
