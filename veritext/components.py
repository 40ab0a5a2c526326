"""The components the `veritext` commands run: the gateway, the scorer, the sink, the bridge and the bot,
each built from its settings and run by the one lifecycle they share. `up` runs the same commands as
its children (veritext/up.py), so a component behaves the same alone and under `up`.

- **Build** (`build_*`): read the settings, make sure of what the component needs before it takes work
  (topics, the schema, a warmed-up model, the database answering) and return a `Component`.
- **Run** (`run_component`): serve its health and metrics beside it (`/healthz` and `/metrics` on its
  metrics port, stream/metrics.py; the gateway answers `/healthz` and `/readyz` itself), then run it
  in the foreground until SIGINT or SIGTERM: a worker finishes its batch and returns; uvicorn and the
  bot's polling handle the signals themselves. Before it runs, what the build made (modules, settings,
  the model) is moved out of the garbage collector's sight (veritext/heap.py).
- **Close**: release what it holds (the database pool), also when it fails.

Each builder imports what it needs when called, so `veritext --help` loads no model and no web server.
"""

import logging
import signal
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any

from stream.metrics import serving_metrics
from veritext.heap import settle_heap

__all__ = [
    "Component",
    "build_bot",
    "build_bridge",
    "build_gateway",
    "build_scorer",
    "build_sink",
    "deployment_status",
    "run_component",
]

log = logging.getLogger(__name__)


@dataclass
class Component:
    name: str
    run: Callable[[], Any]  # in the foreground, until SIGINT or SIGTERM
    metrics: Any = None  # a prometheus CollectorRegistry served with /healthz; None: the component serves its own
    metrics_host: str = "127.0.0.1"
    metrics_port: int = 0  # 0 serves none
    port_setting: str = ""  # the variable that sets the port, for the error when it is taken
    close: Callable[[], None] = field(default=lambda: None)


def run_component(component: Component) -> int:
    endpoint = (
        nullcontext()
        if component.metrics is None
        else serving_metrics(component.metrics, component.metrics_host, component.metrics_port, component.port_setting)
    )
    settle_heap()
    try:
        with endpoint:
            component.run()
    finally:
        component.close()
    return 0


def _worker(name: str, worker: Any, host: str, port: int, port_setting: str, close=lambda: None) -> Component:
    """A worker (it has `stop`, `run()` and `metrics.registry`) as a component: a signal sets its `stop`."""

    def run() -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: worker.stop.set())
        worker.run()

    return Component(name, run, worker.metrics.registry, host, port, port_setting, close)


def build_scorer(detector: str | None = None, *, only_named: bool = False) -> Component:
    from scorer.detectors import load_detector
    from scorer.settings import ScorerSettings
    from scorer.worker import ScoringWorker
    from stream.admin import ensure_topics
    from stream.settings import KafkaSettings

    settings = ScorerSettings()
    kafka = KafkaSettings()
    ensure_topics(kafka)
    model = load_detector(
        detector or settings.detector, cache_dir=settings.model_dir, options=settings.detector_options()
    )
    model.warmup()
    worker = ScoringWorker(
        kafka,
        model,
        group_id=settings.group_id,
        max_batch=settings.max_batch,
        max_wait_s=settings.max_wait_ms / 1000,
        max_batch_tokens=settings.max_batch_tokens,
        max_poll_interval_ms=settings.max_poll_interval_ms,
        serves_unnamed=not only_named,
    )
    return _worker("scorer", worker, settings.metrics_host, settings.metrics_port, "VERITEXT_SCORER_METRICS_PORT")


def build_sink() -> Component:
    from schemas.webhooks import WebhookSettings
    from sink.settings import SinkSettings
    from sink.worker import SinkWorker
    from store.db import open_log
    from stream.admin import ensure_topics
    from stream.settings import KafkaSettings

    kafka = KafkaSettings()
    ensure_topics(kafka)
    engine = open_log()
    settings = SinkSettings()
    worker = SinkWorker(
        kafka,
        engine,
        group_id=settings.group_id,
        max_batch=settings.max_batch,
        max_wait_s=settings.max_wait_ms / 1000,
        webhooks=WebhookSettings(),
    )
    return _worker(
        "sink", worker, settings.metrics_host, settings.metrics_port, "VERITEXT_SINK_METRICS_PORT", engine.dispose
    )


def build_bridge() -> Component:
    from ingest.bridge import Bridge, BridgeSettings
    from store.db import make_engine
    from store.recorder import recorder_for
    from store.settings import DatabaseSettings
    from stream.admin import ensure_topics
    from stream.settings import KafkaSettings

    settings = BridgeSettings()
    kafka = KafkaSettings()
    engine = make_engine(DatabaseSettings().url, pool_size=2)
    worker = Bridge(settings, kafka, recorder=recorder_for(kafka, engine))
    ensure_topics(kafka)
    return _worker(
        "bridge", worker, settings.metrics_host, settings.metrics_port, "VERITEXT_RABBITMQ_METRICS_PORT", engine.dispose
    )


def build_gateway(host: str | None = None, port: int | None = None, *, reuse_port: bool = False) -> Component:
    """`reuse_port`: bind the port so that other gateway processes can serve it too (veritext/ports.py)."""
    import uvicorn

    from ingest.backlog import BacklogMonitor
    from ingest.documents.objects import ObjectStore, ObjectStoreSettings
    from ingest.documents.shelf import DocumentShelf
    from ingest.gateway import GatewaySettings, create_app
    from ingest.gateway.auth import Access, Authenticator, check_auth_mode, check_shared_limits
    from ingest.gateway.ratelimit import KeyLimiter
    from ingest.gateway.settings import AuthSettings
    from schemas.secrets import safe_url
    from schemas.webhooks import WebhookSettings
    from scorer.settings import ScorerSettings
    from store.batches import SqlBatchStore
    from store.db import make_engine
    from store.documents import SqlDocumentStore
    from store.keys import SqlKeyStore
    from store.pages import SqlPageReads
    from store.queries import SqlSubmissionStore
    from store.recorder import recorder_for
    from store.sessions import SqlSessionStore
    from store.settings import DatabaseSettings
    from stream.admin import ensure_topics
    from stream.settings import KafkaSettings
    from veritext.ports import shared_socket
    from veritext.settings import UpSettings

    overrides: dict[str, Any] = {k: v for k, v in {"host": host, "port": port}.items() if v is not None}
    settings = GatewaySettings(**overrides)
    auth = AuthSettings()
    mode = check_auth_mode(auth, settings.host)
    check_shared_limits(auth, mode, max(settings.workers, 2) if reuse_port else 1)
    sock = shared_socket(settings.host, settings.port) if reuse_port else None
    kafka = KafkaSettings()
    ensure_topics(kafka)
    engine = make_engine(DatabaseSettings().url, pool_size=10)
    submissions = SqlSubmissionStore(engine)
    submissions.ping()
    default_folder = UpSettings().data_dir.expanduser().resolve() / "documents"
    originals = ObjectStore.from_settings(ObjectStoreSettings(), default_url=default_folder.as_uri())
    log.info("documents kept in %s", originals.url)
    access = None
    if mode == "api-keys":
        limiter = KeyLimiter(auth.limits_storage)
        access = Access(
            Authenticator(SqlKeyStore(engine), limiter, auth.key_cache_s, SqlSessionStore(engine), auth.session_hours),
            auth.legacy_open,
            auth.legacy_tenant,
        )
        log.info("access control: API keys, rate limits counted in %s", safe_url(auth.limits_storage))
    app = create_app(
        settings,
        kafka,
        submissions,
        SqlBatchStore(engine),
        detectors=_detector_catalogue(),
        recorder=recorder_for(kafka, engine),
        backlog=BacklogMonitor(kafka, ScorerSettings().group_id, settings.max_backlog),
        access=access,
        pages=SqlPageReads(engine, status=lambda: deployment_status(kafka, engine)),
        check_host=access is None,
        documents=DocumentShelf(SqlDocumentStore(engine), originals),
        webhooks=WebhookSettings(),
    )
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        log_config=None,
        access_log=False,  # the gateway writes its own access log, with the route and submission id
    )
    server = uvicorn.Server(config)
    if sock is None:
        return Component("gateway", server.run, close=engine.dispose)
    shared = sock

    def close() -> None:
        shared.close()
        engine.dispose()

    return Component("gateway", lambda: server.run(sockets=[shared]), close=close)


def build_bot() -> Component:
    from bot.app import build_bot as build_application
    from bot.app import poll
    from bot.metrics import BotMetrics
    from bot.settings import BotSettings

    settings = BotSettings()
    metrics = BotMetrics()
    application = build_application(settings, metrics)
    log.info("bot polling %s, asking the gateway at %s", settings.api_url, settings.gateway_url)
    return Component(
        "bot",
        lambda: poll(application, settings),
        metrics.registry,
        settings.metrics_host,
        settings.metrics_port,
        "VERITEXT_TELEGRAM_METRICS_PORT",
    )


def _detector_catalogue():
    """What the scorers of this deployment run (ScorerSettings), resolved without loading a model."""
    from ingest.gateway.detectors import DetectorCatalogue
    from schemas.api import DetectorView
    from scorer.detectors.registry import describe_detector
    from scorer.settings import ScorerSettings

    settings = ScorerSettings()
    infos = [describe_detector(spec, settings.detector_options()) for spec in settings.detectors]
    return DetectorCatalogue(
        [
            DetectorView(name=i.name, version=i.version, spec=i.spec, default=n == 0, report=i.report)
            for n, i in enumerate(infos)
        ]
    )


def deployment_status(kafka, engine):
    """What `veritext status` and the web page's health page show."""
    from scorer.settings import ScorerSettings
    from sink.settings import SinkSettings
    from veritext.settings import UpSettings
    from veritext.status import collect_status as collect
    from veritext.supervisor import read_state

    return collect(
        kafka,
        engine,
        scorer_group=ScorerSettings().group_id,
        sink_group=SinkSettings().group_id,
        components=read_state(UpSettings().state_path),
    )
