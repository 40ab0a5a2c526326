"""Parsers for command-line values that more than one command takes."""

from datetime import UTC, datetime

import typer

__all__ = ["parse_time"]


def parse_time(value: str) -> datetime:
    """An ISO 8601 time (`2026-11-22`, `2026-11-22T09:30`, `2026-11-22T09:30:00+03:00`, `...Z`);
    without a zone it means UTC."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not an ISO 8601 time; e.g. 2026-11-22, 2026-11-22T09:30 (UTC) or 2026-11-22T09:30+03:00"
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
