"""`veritext` commands that run the pipeline: `up`, each component alone, the schema, and `status`."""

from typing import Annotated

import typer

from veritext.cli.app import app, console, out, run_command


@app.command()
def up() -> None:
    """Start the whole pipeline on embedded defaults (PostgreSQL, broker, gateway, scorer, sink)."""
    from veritext.settings import UpSettings
    from veritext.up import run_up

    run_command(lambda: run_up(UpSettings(), console))


@app.command()
def migrate() -> None:
    """Bring the database schema to the head revision."""
    from store.db import migrate as migrate_db
    from store.settings import DatabaseSettings

    run_command(lambda: migrate_db(DatabaseSettings().url))


@app.command()
def gateway(
    host: Annotated[str | None, typer.Option(help="overrides VERITEXT_GATEWAY_HOST")] = None,
    port: Annotated[int | None, typer.Option(help="overrides VERITEXT_GATEWAY_PORT")] = None,
    reuse_port: Annotated[
        bool, typer.Option(help="share the port with other gateway processes (SO_REUSEPORT; `up` does it)")
    ] = False,
) -> None:
    """Run the HTTP gateway (several on one port with --reuse-port: `VERITEXT_GATEWAY_WORKERS` under `up`)."""
    from veritext.components import build_gateway, run_component

    run_command(lambda: run_component(build_gateway(host, port, reuse_port=reuse_port)))


@app.command()
def scorer(
    detector: Annotated[str | None, typer.Option(help="NAME[@VERSION]; overrides VERITEXT_SCORER_DETECTOR")] = None,
    only_named: Annotated[
        bool, typer.Option(help="score only the submissions that name this detector (an extra detector)")
    ] = False,
) -> None:
    """Run a scoring worker (start several: they share the partitions through one consumer group)."""
    from veritext.components import build_scorer, run_component

    run_command(lambda: run_component(build_scorer(detector, only_named=only_named)))


@app.command()
def sink() -> None:
    """Run the sink that writes the PostgreSQL log from the topics."""
    from veritext.components import build_sink, run_component

    run_command(lambda: run_component(build_sink()))


@app.command()
def status(
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
) -> None:
    """Summarise a running deployment: throughput, lag, texts waiting, detector versions, errors."""

    def report() -> None:
        from store.db import open_log
        from stream.settings import KafkaSettings
        from veritext.components import deployment_status
        from veritext.status import render_status

        engine = open_log(pool_size=1)  # a database without the log's tables says so, not with a traceback
        try:
            summary = deployment_status(KafkaSettings(), engine)
        finally:
            engine.dispose()
        if as_json:
            typer.echo(summary.model_dump_json(indent=2))
        else:
            render_status(summary, out)

    run_command(report)


@app.command()
def bridge() -> None:
    """Run the RabbitMQ bridge: answers the original clients' tasks on `ml_tasks` through the log."""
    from veritext.components import build_bridge, run_component

    run_command(lambda: run_component(build_bridge()))


@app.command()
def bot() -> None:
    """Run the Telegram bot: texts sent to it are scored through the gateway (VERITEXT_GATEWAY_URL)."""
    from veritext.components import build_bot, run_component

    run_command(lambda: run_component(build_bot()))
