"""How the read-only commands show what they found: `veritext batches` and `veritext compare`,
as rich tables or as JSON; and how any command's table fits a narrow terminal (`fitting`)."""

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from schemas.api import BatchProgress
from schemas.results import Comparison

__all__ = ["batches_table", "comparison_table", "fitting"]


def fitting(table: Table, console: Console) -> RenderableType:
    """The table as it is where it fits the console; else one block per row, a line per column
    (`column  value`), so that no header or value is cut to an ellipsis on a narrow terminal."""
    if console.measure(table, options=console.options.update_width(100_000)).maximum <= console.width:
        return table
    blocks: list[RenderableType] = [Text(str(table.title), style="bold")] if table.title else []
    rows = zip(*(list(column.cells) for column in table.columns), strict=True)
    for cells in rows:
        block = Table(show_header=False, box=None, pad_edge=False)
        block.add_column(style="bold", no_wrap=True)
        block.add_column(overflow="fold")
        for column, cell in zip(table.columns, cells, strict=True):
            block.add_row(str(column.header), cell)
        blocks += [Text(""), block]
    return Group(*blocks)


def _when(progress: BatchProgress) -> str:
    return progress.created_at.strftime("%Y-%m-%d %H:%M:%SZ") if progress.created_at else ""


def batches_table(batches: list[BatchProgress]) -> Table:
    table = Table(title="batches")
    numbers = ("submitted", "scored", "failed", "rejected", "duplicates")
    table.add_column("batch", no_wrap=True, min_width=36)
    for column in ("status", *numbers, "created (UTC)", "name"):
        table.add_column(column, justify="right" if column in numbers else "left")
    for b in batches:
        table.add_row(
            str(b.batch_id),
            b.status,
            f"{b.submitted:,}",
            f"{b.scored:,}",
            f"{b.failed:,}",
            f"{b.rejected:,}",
            f"{b.duplicates:,}",
            _when(b),
            b.name,
        )
    return table


def _number(value: float | None, digits: int = 4) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def comparison_table(c: Comparison) -> Table:
    table = Table(title=f"B = {c.b} against A = {c.a}", show_header=False)
    rows = [
        ("texts both scored", f"{c.both_scored:,}"),
        ("flipped human -> machine", f"{c.flipped_human_to_machine:,}"),
        ("flipped machine -> human", f"{c.flipped_machine_to_human:,}"),
        ("agreement", _number(c.agreement, 3)),
        ("mean probability shift (B - A)", _number(c.mean_shift)),
        ("mean absolute shift", _number(c.mean_abs_shift)),
        ("largest absolute shift", _number(c.max_abs_shift)),
    ]
    for name, value in rows:
        table.add_row(name, value)
    return table
