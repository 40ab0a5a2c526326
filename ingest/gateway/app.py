"""The gateway app factory: opens the producer, the score waiter and the backlog monitor for the app's
lifetime, mounts the `/v1` (texts, batches), legacy and health routers and `/metrics`, bounds request
bodies before they are read (ingest/gateway/limits.py), holds the access rules (ingest/gateway/auth.py),
and turns every error into JSON with a reason."""

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response, status
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.trustedhost import TrustedHostMiddleware
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from ingest.backlog import BacklogMonitor
from ingest.documents.shelf import DocumentShelf
from ingest.gateway import routes_batches, routes_documents, routes_health, routes_legacy, routes_v1
from ingest.gateway.admission import Admission, LatencyLimit
from ingest.gateway.auth import Access, LoginNeeded, PageRefused
from ingest.gateway.batches import BatchIntake
from ingest.gateway.deps import BatchStore, SubmissionStore
from ingest.gateway.detectors import DetectorCatalogue
from ingest.gateway.limits import BodyLimit
from ingest.gateway.metrics import GatewayMetrics, instrument
from ingest.gateway.ratelimit import RateLimited
from ingest.gateway.settings import GatewaySettings
from ingest.gateway.submit import Submitter, SyncTimeout
from ingest.gateway.ui import pages as ui
from ingest.gateway.ui.reads import PageReads
from ingest.gateway.ui.streams import StreamSlots
from ingest.gateway.waiter import ScoreWaiter
from ingest.recorder import GroupRecorder, SubmissionRecorder
from schemas.errors import InputError, RecordedNotQueued, ServiceUnavailable, TooLarge
from schemas.webhooks import WebhookSettings
from stream.producer import AsyncEventProducer
from stream.settings import KafkaSettings

__all__ = ["create_app"]

log = logging.getLogger(__name__)


def create_app(
    settings: GatewaySettings,
    kafka: KafkaSettings,
    store: SubmissionStore,
    batches: BatchStore,
    metrics: GatewayMetrics | None = None,
    detectors: DetectorCatalogue | None = None,
    recorder: SubmissionRecorder | None = None,
    backlog: BacklogMonitor | None = None,
    access: Access | None = None,
    pages: PageReads | None = None,
    check_host: bool = False,
    documents: DocumentShelf | None = None,
    webhooks: WebhookSettings | None = None,
) -> FastAPI:
    """`recorder`: where submissions are recorded before they are acknowledged, when the broker is
    volatile (ingest/recorder.py); None: the topic alone is durable. `backlog`: the scorers' lag, which
    new submissions are refused past (ingest/backlog.py); None: no bound. `access`: who may call
    (ingest/gateway/auth.py); None: anyone (VERITEXT_AUTH=none). `pages`: the web page's reads
    (ingest/gateway/ui/); None: no web page. `check_host`: answer only the Host names of
    `settings.trusted_hosts` (an open gateway on a developer's machine: no DNS rebinding). `documents`:
    where uploaded documents are kept (ingest/documents/); None: `/v1/documents` answers 501. `webhooks`:
    the deployment's webhook settings (the sinks deliver); None or no secret: a `callback_url` is a 422."""
    metrics = metrics or GatewayMetrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        queue = {"queue.buffering.max.messages": settings.producer_queue, "queue.buffering.max.kbytes": 65_536}
        producer = AsyncEventProducer(kafka, queue, timeout_s=settings.produce_timeout_s)
        waiter = ScoreWaiter(kafka)
        producer.start()
        app.state.producer = producer
        waiter.start(asyncio.get_running_loop())
        if backlog is not None:
            backlog.start()
        grouped = GroupRecorder(recorder) if recorder is not None else None
        webhooks_on = webhooks is not None and webhooks.secret is not None
        app.state.submitter = Submitter(
            producer, waiter, kafka.topics, settings, metrics, grouped, backlog, webhooks_on
        )
        app.state.intake = BatchIntake(producer, kafka.topics, settings, app.state.detectors, grouped, webhooks_on)
        try:
            yield
        finally:
            if backlog is not None:
                backlog.close()
            waiter.close()
            producer.close()

    app = FastAPI(
        title="veritext",
        summary="Scores how likely a text was written by a language model.",
        version="1",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.kafka = kafka
    app.state.store = store
    app.state.batches = batches
    app.state.detectors = detectors or DetectorCatalogue()
    app.state.recorder = recorder
    app.state.access = access or Access()
    app.state.documents = documents
    app.state.webhooks = webhooks
    app.include_router(routes_v1.router)
    app.include_router(routes_batches.router)
    app.include_router(routes_documents.router)
    app.include_router(routes_legacy.router)
    app.include_router(routes_health.router)
    if pages is not None:
        app.state.pages = pages
        app.state.streams = StreamSlots(settings.max_streams, settings.max_streams_per_key)
        app.include_router(ui.router)
        app.mount("/static", StaticFiles(directory=ui.STATIC), name="static")

        @app.exception_handler(LoginNeeded)
        async def _login(request: Request, _: LoginNeeded) -> Response:
            return ui.login_redirect(request)

        @app.exception_handler(PageRefused)
        async def _refused(request: Request, exc: PageRefused) -> Response:
            return ui.render(request, "error.html", exc.status_code, error=str(exc))

    app.state.quick_limit = LatencyLimit(settings.target_latency_ms / 1000, ceiling=settings.max_in_flight)
    app.add_middleware(
        Admission,
        max_in_flight=settings.max_in_flight,
        quick=app.state.quick_limit,
        retry_after_s=settings.retry_after_s,
    )
    if check_host:
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=settings.trusted_hosts)
    instrument(app, metrics)
    app.add_middleware(BodyLimit, limit_for=settings.body_limit)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> Response:
        # FastAPI's own handler echoes the input back as UTF-8 and fails on a lone surrogate (a 500);
        # ASCII JSON escapes it, so the client gets its 422 with the reason
        body = json.dumps({"detail": jsonable_encoder(exc.errors())}, ensure_ascii=True)
        return Response(body, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT, media_type="application/json")

    @app.exception_handler(ServiceUnavailable)
    async def _unavailable(_: Request, exc: ServiceUnavailable) -> Response:
        """Every 503: overloaded, or the broker or the database did not answer; the client retries. When the
        text was recorded all the same, the answer names its submission: poll it, do not send it again."""
        log.warning("answered 503: %s", exc)
        body: dict[str, str] = {"detail": str(exc)}
        if isinstance(exc, RecordedNotQueued):
            body["detail"] += (
                "; it will be scored once the event log answers: poll its href instead of sending it again "
                "(a retry with the same Idempotency-Key is the same submission)"
            )
            body |= {"submission_id": str(exc.submission_id), "href": f"/v1/texts/{exc.submission_id}"}
        return JSONResponse(
            body,
            status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(settings.retry_after_s)},
        )

    @app.exception_handler(InputError)
    async def _input_refused(_: Request, exc: InputError) -> Response:
        """What the caller sent cannot be used as it is: 413 when it is too large, else 422."""
        code = status.HTTP_413_CONTENT_TOO_LARGE if isinstance(exc, TooLarge) else status.HTTP_422_UNPROCESSABLE_CONTENT
        return JSONResponse({"detail": str(exc)}, status_code=code)

    @app.exception_handler(RateLimited)
    async def _limited(_: Request, exc: RateLimited) -> Response:
        return JSONResponse(
            {"detail": str(exc)},
            status_code=status.HTTP_429_TOO_MANY_REQUESTS,
            headers={"Retry-After": str(exc.retry_after_s)},
        )

    @app.exception_handler(SyncTimeout)
    async def _sync_timeout(_: Request, exc: SyncTimeout) -> JSONResponse:
        log.warning(
            "no score for submission %s within %gs; answered 504",
            exc.submission_id,
            settings.sync_timeout_s,
            extra={"submission_id": str(exc.submission_id)},
        )
        return JSONResponse(
            {
                "detail": f"no score within {settings.sync_timeout_s:g}s; the text is queued, poll its href",
                "submission_id": str(exc.submission_id),
                "href": f"/v1/texts/{exc.submission_id}",
            },
            status_code=status.HTTP_504_GATEWAY_TIMEOUT,
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return JSONResponse(
            {"detail": f"internal error ({type(exc).__name__}); the request was not processed"},
            status_code=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )

    return app
