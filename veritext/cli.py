"""The `veritext` command: reads settings, builds components, runs them, and turns any
`VeritextError` into one red line and exit code 1."""

import logging
import signal
import threading
from collections.abc import Callable
from typing import Annotated

import typer
from rich.console import Console

from schemas.errors import VeritextError

__all__ = ["app", "main"]

app = typer.Typer(no_args_is_help=True, add_completion=False, help="AI-text detection on an event log.")
console = Console(stderr=True)
log = logging.getLogger("veritext")


def _run(action: Callable[[], int | None]) -> None:
    from veritext.logs import setup_logging

    setup_logging()
    try:
        code = action()
    except VeritextError as exc:
        console.print(f"[red]{type(exc).__name__}:[/] {exc}")
        raise typer.Exit(1) from None
    raise typer.Exit(code or 0)


def _stop_on_signals(stop: threading.Event) -> None:
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())


@app.command()
def up() -> None:
    """Start the whole pipeline on embedded defaults (PostgreSQL, broker, gateway, scorer, sink)."""
    from veritext.up import UpSettings, run_up

    _run(lambda: run_up(UpSettings(), console))


@app.command()
def migrate() -> None:
    """Bring the database schema to the head revision."""
    from sink.db import migrate as migrate_db
    from sink.settings import DatabaseSettings

    _run(lambda: migrate_db(DatabaseSettings().url))


@app.command()
def gateway(
    host: Annotated[str | None, typer.Option(help="overrides VERITEXT_GATEWAY_HOST")] = None,
    port: Annotated[int | None, typer.Option(help="overrides VERITEXT_GATEWAY_PORT")] = None,
) -> None:
    """Run the HTTP gateway."""

    def serve() -> None:
        import uvicorn

        from ingest.gateway import GatewaySettings, create_app
        from sink.db import make_engine
        from sink.queries import SqlSubmissionStore
        from sink.settings import DatabaseSettings
        from stream.admin import ensure_topics
        from stream.settings import KafkaSettings

        overrides = {k: v for k, v in {"host": host, "port": port}.items() if v is not None}
        settings = GatewaySettings(**overrides)
        kafka = KafkaSettings()
        ensure_topics(kafka)
        store = SqlSubmissionStore(make_engine(DatabaseSettings().url, pool_size=10))
        store.ping()
        uvicorn.run(create_app(settings, kafka, store), host=settings.host, port=settings.port, log_config=None)

    _run(serve)


@app.command()
def scorer(
    detector: Annotated[str | None, typer.Option(help="NAME[@VERSION]; overrides VERITEXT_SCORER_DETECTOR")] = None,
) -> None:
    """Run a scoring worker (start several: they share the partitions through one consumer group)."""

    def score() -> int:
        from scorer.detectors import load_detector
        from scorer.settings import ScorerSettings
        from scorer.worker import ScoringWorker
        from stream.admin import ensure_topics
        from stream.settings import KafkaSettings

        settings = ScorerSettings()
        kafka = KafkaSettings()
        ensure_topics(kafka)
        model = load_detector(detector or settings.detector, cache_dir=settings.model_dir)
        model.warmup()
        worker = ScoringWorker(
            kafka,
            model,
            group_id=settings.group_id,
            max_batch=settings.max_batch,
            max_wait_s=settings.max_wait_ms / 1000,
            max_poll_interval_ms=settings.max_poll_interval_ms,
        )
        _stop_on_signals(worker.stop)
        worker.run()
        return 0

    _run(score)


@app.command()
def sink() -> None:
    """Run the sink that writes the PostgreSQL log from the topics."""

    def store() -> int:
        from sink.db import check_schema, make_engine
        from sink.settings import DatabaseSettings, SinkSettings
        from sink.worker import SinkWorker
        from stream.admin import ensure_topics
        from stream.settings import KafkaSettings

        kafka = KafkaSettings()
        ensure_topics(kafka)
        engine = make_engine(DatabaseSettings().url)
        check_schema(engine)
        settings = SinkSettings()
        worker = SinkWorker(
            kafka,
            engine,
            group_id=settings.group_id,
            max_batch=settings.max_batch,
            max_wait_s=settings.max_wait_ms / 1000,
        )
        _stop_on_signals(worker.stop)
        worker.run()
        return 0

    _run(store)


@app.command()
def bridge() -> None:
    """Run the RabbitMQ bridge: answers the original clients' tasks on `ml_tasks` through the log."""

    def serve() -> int:
        from ingest.bridge import Bridge, BridgeSettings
        from stream.admin import ensure_topics
        from stream.settings import KafkaSettings

        kafka = KafkaSettings()
        worker = Bridge(BridgeSettings(), kafka)
        ensure_topics(kafka)
        _stop_on_signals(worker.stop)
        worker.run()
        return 0

    _run(serve)


@app.command()
def detectors() -> None:
    """List the available detectors as NAME@VERSION, the live default first."""
    from scorer.detectors import available_detectors

    for name in available_detectors():
        typer.echo(name)


def main() -> None:
    app()
