"""The `veritext` command: reads settings, builds components, runs them, and turns any
`VeritextError` into one red line and exit code 1."""

import logging
import signal
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated
from uuid import UUID

import typer
from rich.console import Console

from schemas.errors import VeritextError
from veritext.options import parse_time

__all__ = ["app", "main"]

app = typer.Typer(no_args_is_help=True, add_completion=False, help="AI-text detection on an event log.")
console = Console(stderr=True)
out = Console()
log = logging.getLogger("veritext")

_SINCE_HELP = "from this submission time, ISO 8601 (no zone: UTC)"
Since = Annotated[datetime | None, typer.Option(parser=parse_time, help=_SINCE_HELP)]
Until = Annotated[
    datetime | None, typer.Option(parser=parse_time, help="before this submission time, ISO 8601 (no zone: UTC)")
]


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
        from sink.batches import SqlBatchStore
        from sink.db import make_engine
        from sink.queries import SqlSubmissionStore
        from sink.settings import DatabaseSettings
        from stream.admin import ensure_topics
        from stream.settings import KafkaSettings

        overrides = {k: v for k, v in {"host": host, "port": port}.items() if v is not None}
        settings = GatewaySettings(**overrides)
        kafka = KafkaSettings()
        ensure_topics(kafka)
        engine = make_engine(DatabaseSettings().url, pool_size=10)
        store = SqlSubmissionStore(engine)
        store.ping()
        app = create_app(settings, kafka, store, SqlBatchStore(engine))
        uvicorn.run(app, host=settings.host, port=settings.port, log_config=None)

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
def detectors() -> None:
    """List the available detectors as NAME@VERSION, the live default first."""
    from scorer.detectors import available_detectors
    from scorer.settings import ScorerSettings

    for spec in available_detectors(ScorerSettings().detector):
        typer.echo(spec)


@app.command()
def ingest(
    path: Annotated[Path, typer.Argument(help="a JSONL, CSV or Parquet file, or a directory of .txt files")],
    fmt: Annotated[str | None, typer.Option("--format", help="jsonl, csv, parquet or txt (default: by name)")] = None,
    text_field: Annotated[str, typer.Option(help="the field holding the text")] = "text",
    id_field: Annotated[str | None, typer.Option(help="the field holding your own id of the text")] = None,
    lang: Annotated[str | None, typer.Option(help="the language of texts whose record has no `lang` field")] = None,
    dedupe: Annotated[bool, typer.Option(help="skip texts whose content the log already has")] = False,
    rejects: Annotated[Path | None, typer.Option(help="where rejected lines go (default: PATH.rejects.jsonl)")] = None,
) -> None:
    """Write every text of a file to the submissions topic as one batch (exit 2 when any line is rejected)."""
    from veritext.bulk import run_ingest

    _run(
        lambda: run_ingest(
            path,
            fmt=fmt,
            text_field=text_field,
            id_field=id_field,
            lang=lang,
            dedupe=dedupe,
            rejects=rejects,
            console=console,
            out=out,
        )
    )


@app.command()
def batches(
    batch_id: Annotated[UUID | None, typer.Argument(help="one batch (default: the latest ones)")] = None,
    limit: Annotated[int, typer.Option(min=1, help="how many of the latest batches")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON instead of a table")] = False,
) -> None:
    """Show the progress of bulk batches: submitted, scored, failed."""

    def show() -> int:
        from schemas.errors import ConfigError
        from sink.batches import SqlBatchStore
        from sink.db import check_schema, make_engine
        from sink.settings import DatabaseSettings
        from veritext.reports import batches_table

        engine = make_engine(DatabaseSettings().url, pool_size=1)
        check_schema(engine)
        store = SqlBatchStore(engine)
        if batch_id is None:
            found = store.recent(limit)
        else:
            one = store.progress(batch_id)
            if one is None:
                raise ConfigError(f"no batch {batch_id}")
            found = [one]
        if as_json:
            typer.echo("\n".join(b.model_dump_json() for b in found))
        else:
            out.print(batches_table(found))
        return 0

    _run(show)


@app.command()
def replay(
    since: Annotated[datetime, typer.Option(parser=parse_time, help=_SINCE_HELP)],
    detector: Annotated[str, typer.Option(help="NAME@VERSION to re-score with (see `veritext detectors`)")],
    until: Until = None,
    batch: Annotated[int | None, typer.Option(min=1, help="micro-batch size (default: the scorer's)")] = None,
) -> None:
    """Re-score every submission of a time window with another detector version."""
    from veritext.replay import run_replay

    if until is not None and until <= since:
        raise typer.BadParameter("--until must be later than --since", param_hint="--until")
    _run(
        lambda: run_replay(since=since, until=until, detector_spec=detector, max_batch=batch, console=console, out=out)
    )


@app.command()
def export(
    output: Annotated[Path, typer.Option(help="the file to write")],
    fmt: Annotated[str | None, typer.Option("--format", help="csv, jsonl or parquet (default: from --output)")] = None,
    batch: Annotated[UUID | None, typer.Option(help="only this batch")] = None,
    since: Since = None,
    until: Until = None,
    detector: Annotated[str | None, typer.Option(help="only this detector: NAME@VERSION, NAME or VERSION")] = None,
) -> None:
    """Export results (one row per text and detector version) to CSV, JSONL or Parquet."""
    from sink.results import ResultSelection
    from veritext.export import run_export

    selection = ResultSelection(batch_id=batch, since=since, until=until, detector=detector)
    _run(lambda: run_export(selection, fmt, output, console))


@app.command()
def compare(
    detector: Annotated[list[str], typer.Option(help="give it twice: A (the reference), then B")],
    since: Since = None,
    until: Until = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON instead of a table")] = False,
) -> None:
    """Compare two detector versions on the texts both scored: label flips and probability shifts."""
    if len(detector) != 2:
        raise typer.BadParameter(f"give exactly two, A then B; got {len(detector)}", param_hint="--detector")

    def show() -> int:
        from sink.db import check_schema, make_engine
        from sink.results import compare_detectors
        from sink.settings import DatabaseSettings
        from veritext.reports import comparison_table

        engine = make_engine(DatabaseSettings().url, pool_size=1)
        check_schema(engine)
        comparison = compare_detectors(engine, detector[0], detector[1], since, until)
        if as_json:
            typer.echo(comparison.model_dump_json(indent=2))
        else:
            out.print(comparison_table(comparison))
        return 0

    _run(show)


def main() -> None:
    app()
