"""The `veritext` command: each command builds its component (veritext/components.py) or runs its task,
and any `VeritextError` becomes one red line and exit code 1."""

import logging
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated
from uuid import UUID

import typer
from rich.console import Console

from lab.dataset import TRAIN_PER_CELL, VALIDATION_PER_CELL
from schemas.errors import InputError, VeritextError
from veritext.options import parse_time

__all__ = ["app", "main"]

app = typer.Typer(no_args_is_help=True, add_completion=False, help="AI-text detection on an event log.")
console = Console(stderr=True, soft_wrap=True)  # messages: one line each, never cut to 80 columns
out = Console(width=None if sys.stdout.isatty() else 1_000)  # tables: the terminal's width; piped, never cut
log = logging.getLogger("veritext")

_SINCE_HELP = "from this submission time, ISO 8601 (no zone: UTC)"
Since = Annotated[datetime | None, typer.Option(parser=parse_time, help=_SINCE_HELP)]
Until = Annotated[
    datetime | None, typer.Option(parser=parse_time, help="before this submission time, ISO 8601 (no zone: UTC)")
]
Tenant = Annotated[str | None, typer.Option(help="only the texts this API key (its name) sent")]


def _run(action: Callable[[], int | None]) -> None:
    from veritext.logs import setup_logging

    setup_logging(console=console)
    try:
        code = action()
    except VeritextError as exc:
        console.print(f"[red]{type(exc).__name__}:[/] {exc}")
        raise typer.Exit(1) from None
    raise typer.Exit(code or 0)


@app.callback()
def _find_the_pipeline(context: typer.Context) -> None:
    """Every command but `up` starts from the addresses a running `up` left (veritext/addresses.py)."""
    if context.invoked_subcommand != "up":
        from veritext.addresses import use_addresses
        from veritext.settings import UpSettings

        use_addresses(UpSettings().addresses_path)


@app.command()
def up() -> None:
    """Start the whole pipeline on embedded defaults (PostgreSQL, broker, gateway, scorer, sink)."""
    from veritext.settings import UpSettings
    from veritext.up import run_up

    _run(lambda: run_up(UpSettings(), console))


@app.command()
def migrate() -> None:
    """Bring the database schema to the head revision."""
    from store.db import migrate as migrate_db
    from store.settings import DatabaseSettings

    _run(lambda: migrate_db(DatabaseSettings().url))


@app.command()
def gateway(
    host: Annotated[str | None, typer.Option(help="overrides VERITEXT_GATEWAY_HOST")] = None,
    port: Annotated[int | None, typer.Option(help="overrides VERITEXT_GATEWAY_PORT")] = None,
) -> None:
    """Run the HTTP gateway."""
    from veritext.components import build_gateway, run_component

    _run(lambda: run_component(build_gateway(host, port)))


@app.command()
def scorer(
    detector: Annotated[str | None, typer.Option(help="NAME[@VERSION]; overrides VERITEXT_SCORER_DETECTOR")] = None,
    only_named: Annotated[
        bool, typer.Option(help="score only the submissions that name this detector (an extra detector)")
    ] = False,
) -> None:
    """Run a scoring worker (start several: they share the partitions through one consumer group)."""
    from veritext.components import build_scorer, run_component

    _run(lambda: run_component(build_scorer(detector, only_named=only_named)))


@app.command()
def sink() -> None:
    """Run the sink that writes the PostgreSQL log from the topics."""
    from veritext.components import build_sink, run_component

    _run(lambda: run_component(build_sink()))


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

    _run(report)


@app.command()
def bridge() -> None:
    """Run the RabbitMQ bridge: answers the original clients' tasks on `ml_tasks` through the log."""
    from veritext.components import build_bridge, run_component

    _run(lambda: run_component(build_bridge()))


@app.command()
def bot() -> None:
    """Run the Telegram bot: texts sent to it are scored through the gateway (VERITEXT_GATEWAY_URL)."""
    from veritext.components import build_bot, run_component

    _run(lambda: run_component(build_bot()))


@app.command()
def detectors(
    as_json: Annotated[
        bool, typer.Option("--json", help="name, version, whether the scorers run it, and its evaluation report")
    ] = False,
) -> None:
    """List the available detectors as NAME@VERSION, the live default first."""

    def show() -> None:
        import json

        from scorer.detectors import available_detectors
        from scorer.detectors.registry import describe_detector
        from scorer.settings import ScorerSettings

        settings = ScorerSettings()
        specs = available_detectors(settings.detector_options(), default=settings.detector)
        if not as_json:
            for spec in specs:
                typer.echo(spec)
            return
        running = {describe_detector(s, settings.detector_options()).spec for s in settings.detectors}
        rows = []
        for spec in specs:
            info = describe_detector(spec, settings.detector_options())
            rows.append(
                {
                    "name": info.name,
                    "version": info.version,
                    "spec": info.spec,
                    "default": spec == specs[0],
                    "running": info.spec in running,
                    "report": info.report,
                }
            )
        typer.echo(json.dumps(rows, indent=1, ensure_ascii=False))

    _run(show)


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

    _run(show)


_STATS_CACHE = Path("~/.cache/veritext/stats")
_MEASURES = Path("~/.cache/veritext/measures")


@app.command("train-calibration")
def train_calibration(
    data: Annotated[
        list[Path] | None, typer.Argument(help="JSONL files or folders; default en/ and ru/ of VERITEXT_LABELLED_DATA")
    ] = None,
    output: Annotated[Path | None, typer.Option(help="the artifact; default: the committed one")] = None,
    train_per_cell: Annotated[
        int, typer.Option(min=10, help="training texts per language/domain/label")
    ] = TRAIN_PER_CELL,
    validation_per_cell: Annotated[int, typer.Option(min=10, help="validation texts per cell")] = VALIDATION_PER_CELL,
    min_tokens: Annotated[int, typer.Option(min=2, help="fewer tokens than this: too short to judge")] = 24,
    stats_cache: Annotated[Path, typer.Option(help="where measured statistics are kept")] = _STATS_CACHE,
) -> None:
    """Fit the likelihood detector's calibration on the training split and write the versioned artifact."""

    def fit() -> None:
        from lab.settings import LabSettings
        from lab.train import train_calibration as train
        from scorer.detectors.registry import PACKAGED_CALIBRATION
        from scorer.settings import ScorerSettings

        settings = ScorerSettings()
        if output is None and settings.model != "packaged":
            raise InputError("name the artifact with --output when the model is not the packaged one")
        target = output or PACKAGED_CALIBRATION
        calibration = train(
            data or [LabSettings().labelled_data / "en", LabSettings().labelled_data / "ru"],
            output=target,
            options=settings.detector_options(stats_cache=stats_cache.expanduser()),
            model_dir=settings.model_dir,
            train_per_cell=train_per_cell,
            validation_per_cell=validation_per_cell,
            min_tokens=min_tokens,
            console=console,
        )
        for lang, fitted in calibration.languages.items():
            console.print(f"{lang}: threshold {fitted.threshold:.3f}, validation {fitted.validation}")
        console.print(f"held-out generators (AUROC): {calibration.generalisation}")
        console.print(f"wrote {target} (data sha256 {calibration.data_sha256[:12]})")

    _run(fit)


@app.command("train-probe")
def train_probe(
    data: Annotated[
        list[Path] | None, typer.Argument(help="JSONL files or folders; default VERITEXT_LABELLED_DATA")
    ] = None,
    output: Annotated[Path | None, typer.Option(help="the artifact; default: the committed one")] = None,
    measures: Annotated[Path, typer.Option(help="where measured texts are kept")] = _MEASURES,
) -> None:
    """Fit the probe detector on the corpus sample; write the artifact and its evaluation report beside it."""

    def fit() -> None:
        from lab.probe_fit import ProbeConfig
        from lab.probe_report import report_json, report_markdown
        from lab.probe_train import train_probe as train
        from lab.settings import LabSettings
        from lab.tracking import log_run_to_mlflow
        from scorer.detectors.registry import PACKAGED_PROBE, report_path
        from scorer.settings import ScorerSettings

        settings = ScorerSettings()
        if output is None and settings.model != "packaged":
            raise InputError("name the artifact with --output when the model is not the packaged one")
        target = output or PACKAGED_PROBE
        try:
            model, report = train(
                data or [LabSettings().labelled_data],
                options=settings.detector_options(),
                model_dir=settings.model_dir,
                config=ProbeConfig(),
                console=console,
                measures_dir=measures.expanduser(),
            )
        except (OSError, ValueError) as exc:
            raise InputError(f"cannot fit the probe detector: {exc}") from None
        model.save(target)
        report_path(target).write_text(report_json(report), encoding="utf-8")
        report_path(target).with_suffix(".md").write_text(report_markdown(report), encoding="utf-8")
        out.print(report_markdown(report))
        console.print(f"wrote {target} and {report_path(target)} ({report['detector']})")
        log_run_to_mlflow(report)

    _run(fit)


@app.command("eval")
def evaluate(
    data: Annotated[list[Path], typer.Argument(help="JSONL files or folders of labelled texts")],
    json_out: Annotated[Path | None, typer.Option("--json", help="write the metrics as JSON here")] = None,
    markdown: Annotated[Path | None, typer.Option(help="write the metrics as a markdown table here")] = None,
    scores: Annotated[Path | None, typer.Option(help="write one CSV row per text here")] = None,
    by: Annotated[str, typer.Option(help="comma-separated fields to break the metrics down by")] = "lang",
    detector: Annotated[str | None, typer.Option(help="NAME[@VERSION]; default VERITEXT_SCORER_DETECTOR")] = None,
    split: Annotated[str | None, typer.Option(help="only this split of the data: train, validation, test")] = None,
    per_cell: Annotated[int | None, typer.Option(min=1, help="at most this many texts per lang/domain/label")] = None,
    batch_size: Annotated[int, typer.Option(min=1)] = 16,
    stats_cache: Annotated[Path, typer.Option(help="where measured statistics are kept")] = _STATS_CACHE,
) -> None:
    """Score labelled texts in-process and print AUROC, TPR at 1%/5% FPR, F1, ECE and Brier."""

    def run_eval() -> None:
        from lab.evaluate import (
            GROUP_FIELDS,
            report,
            report_json,
            report_markdown,
            report_table,
            score_records,
            write_scores,
        )
        from lab.train import progress_bar
        from scorer.detectors import load_detector
        from scorer.settings import ScorerSettings
        from veritext.reports import fitting

        fields = [f.strip() for f in by.split(",") if f.strip()]
        if unknown := set(fields) - set(GROUP_FIELDS):
            raise InputError(f"--by accepts {', '.join(GROUP_FIELDS)}, not {', '.join(sorted(unknown))}")
        records = _labelled(data, split, per_cell)
        settings = ScorerSettings()
        options = settings.detector_options(stats_cache=stats_cache.expanduser())
        model = load_detector(detector or settings.detector, cache_dir=settings.model_dir, options=options)
        with progress_bar(console) as progress:
            task = progress.add_task("scoring", total=len(records))
            rows = score_records(model, records, batch_size, lambda n: progress.advance(task, n))
        result = report(model, rows, fields)
        out.print(fitting(report_table(result), out))
        if json_out:
            json_out.write_text(report_json(result) + "\n", encoding="utf-8")
        if markdown:
            markdown.write_text(report_markdown(result), encoding="utf-8")
        if scores:
            write_scores(rows, scores)

    _run(run_eval)


def _labelled(paths: list[Path], split: str | None, per_cell: int | None):
    from lab.dataset import read_labelled, sample, split_of

    if split not in (None, "train", "validation", "test"):
        raise InputError(f"--split must be train, validation or test, not {split!r}")
    try:
        records = list(read_labelled(paths))
    except (OSError, ValueError) as exc:
        raise InputError(str(exc)) from None
    if per_cell is not None:
        splits = [split] if split else ["train", "validation", "test"]
        records = [r for s in splits for r in sample(records, s, per_cell)]  # type: ignore[arg-type]
    elif split:
        records = [r for r in records if split_of(r) == split]
    if not records:
        raise InputError("no labelled texts to evaluate")
    return records


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
    tenant: Tenant = None,
) -> None:
    """Export results (one row per text and detector version) to CSV, JSONL or Parquet."""
    from store.results import ResultSelection
    from veritext.export import run_export

    selection = ResultSelection(batch_id=batch, since=since, until=until, detector=detector, tenant=tenant)
    _run(lambda: run_export(selection, fmt, output, console))


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

    _run(show)


keys = typer.Typer(no_args_is_help=True, help="API keys of the gateway (VERITEXT_AUTH=api-keys).")
app.add_typer(keys, name="keys")


@keys.command("create")
def keys_create(
    name: Annotated[str, typer.Option(help="the key's name: the tenant its texts are recorded under")],
    scopes: Annotated[str, typer.Option(help="comma-separated: submit, read, admin (reads every tenant)")] = (
        "submit,read"
    ),
    rate_limit: Annotated[str | None, typer.Option(help="requests, e.g. 60/minute (default: no limit)")] = None,
    quota: Annotated[str | None, typer.Option(help="texts a day, e.g. 1000/day (default: no quota)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the key and its settings as JSON")] = False,
) -> None:
    """Make a key and print it, once: only a digest of it is stored."""
    from veritext.keys import create_key

    _run(lambda: create_key(name, scopes, rate_limit, quota, as_json, console))


@keys.command("list")
def keys_list(as_json: Annotated[bool, typer.Option("--json", help="one JSON object a key")] = False) -> None:
    """The keys, live and revoked (never their secrets)."""
    from veritext.keys import list_keys

    _run(lambda: list_keys(as_json, out))


@keys.command("revoke")
def keys_revoke(name: Annotated[str, typer.Option(help="the key's name")]) -> None:
    """Refuse a key from now on (every gateway within a second)."""
    from veritext.keys import revoke_key

    _run(lambda: revoke_key(name, console))


def main() -> None:
    app()
