"""The `veritext` command itself: the typer app the command modules register on, the consoles they print
to (messages on stderr, tables and data on stdout), the options several share, and `run_command`, through
which every command runs: logging set up, and any `VeritextError` one red line and exit code 1."""

import logging
import sys
from collections.abc import Callable
from datetime import datetime
from typing import Annotated

import typer
from rich.console import Console

from schemas.errors import VeritextError
from veritext.options import parse_time

__all__ = ["RequiredSince", "Since", "Tenant", "Until", "app", "console", "main", "out", "run_command"]

app = typer.Typer(no_args_is_help=True, add_completion=False, help="AI-text detection on an event log.")
console = Console(stderr=True, soft_wrap=True)  # messages: one line each, never cut to 80 columns
out = Console(width=None if sys.stdout.isatty() else 1_000)  # tables: the terminal's width; piped, never cut
log = logging.getLogger("veritext")

_SINCE_HELP = "from this submission time, ISO 8601 (no zone: UTC)"
Since = Annotated[datetime | None, typer.Option(parser=parse_time, help=_SINCE_HELP)]
RequiredSince = Annotated[datetime, typer.Option(parser=parse_time, help=_SINCE_HELP)]
Until = Annotated[
    datetime | None, typer.Option(parser=parse_time, help="before this submission time, ISO 8601 (no zone: UTC)")
]
Tenant = Annotated[str | None, typer.Option(help="only the texts this API key (its name) sent")]


def run_command(action: Callable[[], int | None]) -> None:
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


def main() -> None:
    app()
