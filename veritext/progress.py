"""The progress bar of the long commands (`veritext ingest`, `veritext replay`): what is done, the
command's own counts, the rate and the time left, in a line that fits an 80-column terminal (the bar
takes what the text leaves). Log records go above it: the CLI's log handler writes through the same
console (veritext/logs.py)."""

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

__all__ = ["progress_bar"]


def progress_bar(console: Console, what: str, counts: str) -> Progress:
    """`counts` is a format string over the task's fields, e.g. "{task.fields[accepted]:,} accepted"."""
    return Progress(
        TextColumn(f"[bold]{what}"),
        BarColumn(bar_width=None),
        TaskProgressColumn(),
        TextColumn(counts),
        TimeRemainingColumn(),
        console=console,
        expand=True,
    )
