"""`veritext ingest`: one bulk run from a file or a directory, with a progress bar (rate, ETA)
and a summary. Exit code 0 when every record was accepted, 2 when any was rejected, 130 when
interrupted; an error (the broker or the database failing) is exit code 1 after the summary."""

import signal
from contextlib import closing
from pathlib import Path

from rich.console import Console
from rich.table import Table

from ingest.backlog import BacklogMonitor
from ingest.bulk import BulkIngest, IngestCounts, IngestSummary, RecordRules, RejectsFile, open_reader
from ingest.bulk.settings import BulkSettings
from schemas.errors import DeliveryError
from scorer.settings import ScorerSettings
from store.batches import SqlBatchStore
from store.db import open_log
from store.queries import SqlHashIndex
from store.recorder import recorder_for
from stream.admin import ensure_topics
from stream.producer import EventProducer, bulk_config
from stream.settings import KafkaSettings
from veritext.heap import settle_heap
from veritext.progress import progress_bar

__all__ = ["run_ingest"]

EXIT_REJECTED = 2
EXIT_INTERRUPTED = 130


def run_ingest(
    path: Path,
    *,
    fmt: str | None,
    text_field: str,
    id_field: str | None,
    lang: str | None,
    dedupe: bool,
    rejects: Path | None,
    console: Console,
    out: Console,
) -> int:
    settings = BulkSettings()
    rules = RecordRules(text_field=text_field, id_field=id_field, lang=lang, max_chars=settings.max_text_chars)
    reader, rules = open_reader(path, fmt, rules)
    kafka = KafkaSettings()
    ensure_topics(kafka)
    engine = open_log(pool_size=2)
    ledger = SqlBatchStore(engine)
    rejects_file = RejectsFile(rejects or path.with_name(path.name + ".rejects.jsonl"))
    backlog = BacklogMonitor(kafka, ScorerSettings().group_id, settings.max_backlog).start()
    settle_heap()
    with EventProducer(kafka, bulk_config(settings.max_in_flight)) as producer, closing(backlog):
        ingest = BulkIngest(
            producer,
            kafka.topics.submissions,
            rules,
            ledger,
            rejects_file,
            hashes=SqlHashIndex(engine) if dedupe else None,
            recorder=recorder_for(kafka, engine),
            backlog=backlog,
        )
        previous = {sig: signal.signal(sig, lambda *_: ingest.stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
        shown = "{task.fields[accepted]:,} accepted, {task.fields[rejected]:,} rejected, {task.fields[rate]:,.0f}/s"
        with progress_bar(console, "ingesting", shown) as progress:
            task = progress.add_task("ingest", total=reader.total, accepted=0, rejected=0, rate=0.0)

            def show(counts: IngestCounts) -> None:
                elapsed = progress.tasks[task].elapsed or 0.0
                rate = counts.accepted / elapsed if elapsed else 0.0
                progress.update(
                    task, completed=reader.done, accepted=counts.accepted, rejected=counts.rejected, rate=rate
                )

            try:
                summary = ingest.run(reader, show)
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)
    out.print(_summary(summary))
    if summary.stopped and summary.stopped != "interrupted":
        raise DeliveryError(summary.stopped)
    if summary.stopped:
        return EXIT_INTERRUPTED
    return EXIT_REJECTED if summary.counts.rejected else 0


def _summary(summary: IngestSummary) -> Table:
    table = Table(title="ingest summary", show_header=False)
    counts = summary.counts
    rows = [
        ("batch", str(summary.batch_id)),
        ("input", summary.name),
        ("accepted", f"{counts.accepted:,}"),
        ("rejected", f"{counts.rejected:,}"),
        ("duplicates skipped", f"{counts.duplicates:,}"),
        ("elapsed", f"{summary.elapsed_s:.1f} s"),
        ("rate", f"{summary.rate:,.0f} events/s"),
    ]
    if summary.rejects is not None:
        rows.append(("rejects file", str(summary.rejects)))
    if summary.stopped:
        rows.append(("stopped early", summary.stopped))
    for name, value in rows:
        table.add_row(name, value)
    return table
