"""`veritext` commands on the texts and the log: bulk ingestion and its batches, replay, export, comparison."""

from pathlib import Path
from typing import Annotated
from uuid import UUID

import typer

from veritext.cli.app import RequiredSince, Since, Tenant, Until, app, console, out, run_command


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

    run_command(
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
        from store.batches import SqlBatchStore
        from store.db import open_log
        from veritext.reports import batches_table, fitting

        store = SqlBatchStore(open_log(pool_size=1))
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
            out.print(fitting(batches_table(found), out))
        return 0

    run_command(show)


@app.command()
def replay(
    since: RequiredSince,
    detector: Annotated[str, typer.Option(help="NAME@VERSION to re-score with (see `veritext detectors`)")],
    until: Until = None,
    batch: Annotated[int | None, typer.Option(min=1, help="micro-batch size (default: the scorer's)")] = None,
) -> None:
    """Re-score every submission of a time window with another detector version."""
    from veritext.replay import run_replay

    if until is not None and until <= since:
        raise typer.BadParameter("--until must be later than --since", param_hint="--until")
    run_command(
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
    tenant: Tenant = None,
) -> None:
    """Export results (one row per text and detector version) to CSV, JSONL or Parquet."""
    from store.results import ResultSelection
    from veritext.export import run_export

    selection = ResultSelection(batch_id=batch, since=since, until=until, detector=detector, tenant=tenant)
    run_command(lambda: run_export(selection, fmt, output, console))


@app.command()
def compare(
    detector: Annotated[list[str], typer.Option(help="give it twice: A (the reference), then B")],
    since: Since = None,
    until: Until = None,
    tenant: Tenant = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON instead of a table")] = False,
) -> None:
    """Compare two detector versions on the texts both scored: label flips and probability shifts."""
    if len(detector) != 2:
        raise typer.BadParameter(f"give exactly two, A then B; got {len(detector)}", param_hint="--detector")

    def show() -> int:
        from store.db import open_log
        from store.results import compare_detectors
        from veritext.reports import comparison_table

        comparison = compare_detectors(open_log(pool_size=1), detector[0], detector[1], since, until, tenant)
        if as_json:
            typer.echo(comparison.model_dump_json(indent=2))
        else:
            out.print(comparison_table(comparison))
        return 0

    run_command(show)
