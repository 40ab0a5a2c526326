"""What the commands print fits the terminal: a table too wide for it becomes one block per row (no
header or value cut to an ellipsis), and a log record written while a progress bar is shown goes above
the bar whole."""

import io
import logging
import uuid
from datetime import UTC, datetime

from rich.console import Console
from rich.text import Text

from schemas.api import BatchProgress
from veritext.logs import LogSettings, setup_logging
from veritext.progress import progress_bar
from veritext.reports import batches_table, fitting

BATCH = BatchProgress(
    batch_id=uuid.uuid4(),
    name="/home/someone/data/essays-2026.jsonl",
    status="scoring",
    submitted=1_000_000,
    scored=999,
    failed=0,
    rejected=12,
    duplicates=0,
    created_at=datetime.now(UTC),
    finished_at=None,
)
HEADERS = ("batch", "status", "submitted", "scored", "failed", "rejected", "duplicates", "created (UTC)", "name")


def _printed(width: int) -> str:
    console = Console(width=width, file=io.StringIO(), force_terminal=False)
    console.print(fitting(batches_table([BATCH, BATCH]), console))
    return console.file.getvalue()


def test_a_wide_table_on_a_narrow_terminal_is_shown_row_by_row_with_nothing_cut():
    narrow = _printed(80)
    assert "…" not in narrow and max(len(line) for line in narrow.splitlines()) <= 80
    assert all(narrow.count(header) == 2 for header in HEADERS[1:]), narrow
    assert narrow.count(str(BATCH.batch_id)) == 2 and BATCH.name in narrow

    wide = _printed(200)
    assert "┃ batch" in wide and "…" not in wide, "a table that fits stays a table"


def test_a_log_record_during_a_progress_bar_goes_above_it_whole():
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=80)
    setup_logging(LogSettings(format="text"), console=console)
    try:
        with progress_bar(console, "ingesting", "{task.fields[accepted]:,} accepted") as progress:
            task = progress.add_task("ingest", total=10, accepted=0)
            progress.update(task, completed=5, accepted=5)
            logging.getLogger("veritext.test").warning("waiting for the scorers")
            progress.update(task, completed=10, accepted=10)
    finally:
        setup_logging(LogSettings())
    lines = [Text.from_ansi(line).plain for line in screen.getvalue().split("\n")]
    logged = [line for line in lines if "waiting for the scorers" in line]
    assert len(logged) == 1 and "ingesting" not in logged[0], lines
