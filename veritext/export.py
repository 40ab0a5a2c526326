"""`veritext export`: the selected results from the log database into a CSV, JSONL or Parquet file."""

from collections.abc import Iterator
from pathlib import Path

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from schemas.errors import ConfigError
from schemas.results import ResultRow
from store.db import open_log
from store.export import EXPORT_FORMATS, ExportFormat, write_results
from store.results import ResultSelection, iter_results

__all__ = ["run_export"]


def export_format(fmt: str | None, output: Path) -> ExportFormat:
    """`fmt`, or the one the output's suffix names."""
    chosen = fmt or output.suffix.lower().lstrip(".")
    for known in EXPORT_FORMATS:
        if chosen == known:
            return known
    raise ConfigError(
        f"cannot tell the export format from {output.name!r}; pass --format ({', '.join(EXPORT_FORMATS)})"
    )


def run_export(selection: ResultSelection, fmt: str | None, output: Path, console: Console) -> int:
    chosen = export_format(fmt, output)
    if not output.parent.is_dir():
        raise ConfigError(f"{output.parent} is not a directory")
    engine = open_log(pool_size=1)
    with Progress(
        SpinnerColumn(), TextColumn("exporting: {task.completed:,} rows"), TimeElapsedColumn(), console=console
    ) as p:
        task = p.add_task("export", total=None)

        def counted(rows: Iterator[ResultRow]) -> Iterator[ResultRow]:
            for row in rows:
                p.advance(task)
                yield row

        count = write_results(counted(iter_results(engine, selection)), chosen, output)
    console.print(f"wrote {count:,} rows to {output}")
    return 0
