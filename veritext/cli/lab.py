"""`veritext` commands of the detector lab: the detectors available, evaluation, and training their artifacts."""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from lab.dataset import TRAIN_PER_CELL, VALIDATION_PER_CELL
from schemas.errors import InputError
from veritext.cli.app import app, console, out, run_command

if TYPE_CHECKING:  # imported where used: the model's settings are not loaded for every command
    from scorer.settings import ScorerSettings


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

    run_command(show)


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
        target = _artifact(output, PACKAGED_CALIBRATION, settings)
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

    run_command(fit)


def _artifact(output: Path | None, packaged: Path, settings: "ScorerSettings") -> Path:
    """Where a fitted artifact goes: `output`, else the committed one, which fits the packaged model only."""
    if output is None and settings.model != "packaged":
        raise InputError("name the artifact with --output when the model is not the packaged one")
    return output or packaged


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
        target = _artifact(output, PACKAGED_PROBE, settings)
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

    run_command(fit)


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

    run_command(run_eval)


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
