"""`veritext train-calibration`: measure the training and validation samples, fit, write the artifact.

The samples come from the committed split rule (dataset.py): up to `train_per_cell` training texts and
`validation_per_cell` validation texts per (language, domain, label), one per source document. The model
pass is cached on disk (stats_cache.py), so a second run with more texts measures only the new ones.
"""

from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from lab.dataset import data_hash, read_labelled, sample
from lab.fit import Measured, fit_calibration
from scorer.detectors.calibration_model import Calibration
from scorer.detectors.registry import DetectorOptions, load_statistics
from scorer.detectors.stats_cache import DEFAULT_STATS_CACHE, CachedStatistics

__all__ = ["progress_bar", "train_calibration"]


def progress_bar(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
    )


def train_calibration(
    paths: list[Path],
    *,
    output: Path,
    options: DetectorOptions,
    model_dir: Path,
    train_per_cell: int,
    validation_per_cell: int,
    min_tokens: int,
    console: Console,
) -> Calibration:
    try:
        records = list(read_labelled(paths))
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot read the labelled data: {exc}") from exc
    train = sample(records, "train", train_per_cell)
    validation = sample(records, "validation", validation_per_cell)
    lm_statistics = load_statistics(model_dir, options.replace(stats_cache=None))
    statistics = CachedStatistics(lm_statistics, options.stats_cache or DEFAULT_STATS_CACHE)
    texts = [r.text for r in train + validation]
    with progress_bar(console) as progress:
        task = progress.add_task("measuring", total=len(texts))
        measured = statistics.statistics(texts, progress=lambda n: progress.advance(task, n))
    pairs = [Measured(r, s) for r, s in zip(train + validation, measured, strict=True)]
    calibration = fit_calibration(
        pairs[: len(train)],
        pairs[len(train) :],
        model=lm_statistics.model.model_id,
        performer=lm_statistics.performer.model_id if lm_statistics.performer else None,
        window=lm_statistics.window,
        skip_tokens=lm_statistics.skip_tokens,
        min_tokens=min_tokens,
        data_sha256=data_hash(train + validation),
    )
    calibration.save(output)
    return calibration
