"""`veritext replay`: re-score every submission of a time window with a chosen detector version.

It reads [submissions] from the offsets for `--since` to the end offsets captured at the start,
under a fresh consumer group (`stream.replay`), and scores in the scorer's micro-batches
(`scorer.rescore`); the scores go to [scores], where the sink stores them beside the earlier ones.
When the topic no longer holds the window, it says why and re-scores from the PostgreSQL log,
which keeps the texts (only what the sink had stored when the replay started).
"""

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from confluent_kafka import Message
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine

from schemas.detector_spec import DetectorSpec
from schemas.events import SubmissionEvent, wire
from scorer.detectors import Detector, load_detector
from scorer.rescore import RescoreCounts, Rescorer
from scorer.settings import ScorerSettings
from store.db import open_log
from store.window import iter_window, window_stats
from stream.admin import ensure_topics
from stream.consumer import origin
from stream.producer import EventProducer
from stream.replay import missing_window, plan_replay, read_plan
from stream.settings import KafkaSettings
from veritext.progress import progress_bar

__all__ = ["ReplayResult", "replay_window", "run_replay"]

Offer = tuple[SubmissionEvent | None, str, bytes]  # None: a record that is not a submission


@dataclass(frozen=True)
class ReplayResult:
    detector: str
    source: str  # where the texts were read from
    counts: RescoreCounts
    elapsed_s: float


def run_replay(
    *,
    since: datetime,
    until: datetime | None,
    detector_spec: str,
    max_batch: int | None,
    console: Console,
    out: Console,
) -> int:
    kafka, scorer = KafkaSettings(), ScorerSettings()
    engine = open_log(pool_size=2)
    ensure_topics(kafka)
    detector = load_detector(detector_spec, cache_dir=scorer.model_dir, options=scorer.detector_options())
    detector.warmup()
    result = replay_window(
        kafka,
        engine,
        detector,
        since=since,
        until=until,
        max_batch=max_batch or scorer.max_batch,
        max_batch_tokens=scorer.max_batch_tokens,
        console=console,
    )
    out.print(_summary(result))
    return 0


def replay_window(
    kafka: KafkaSettings,
    engine: Engine,
    detector: Detector,
    *,
    since: datetime,
    until: datetime | None,
    max_batch: int,
    max_batch_tokens: int = 16_384,
    console: Console,
) -> ReplayResult:
    """Re-score the window with `detector`: from the topic, or from the log when the topic lost it."""
    topic = kafka.topics.submissions
    plan = plan_replay(kafka, topic, since)
    logged = window_stats(engine, since, until)
    gap = missing_window(plan, topic, logged.earliest)
    if plan is not None and gap is None:
        source, total, offers = f"topic {topic}", plan.records, _from_topic(read_plan(kafka, plan))
    else:
        console.print(f"[yellow]The topic no longer holds the window: {gap}.[/] Re-scoring from the PostgreSQL log.")
        source, total, offers = "PostgreSQL log", logged.count, _from_log(iter_window(engine, since, until))
    name = str(DetectorSpec(detector.name, detector.version))
    started = time.monotonic()
    with EventProducer(kafka) as producer:
        rescorer = Rescorer(
            detector,
            producer,
            kafka.topics,
            since=since,
            until=until,
            max_batch=max_batch,
            max_batch_tokens=max_batch_tokens,
        )
        console.print(f"replaying {total:,} submissions with {name}")
        shown = "{task.fields[scored]:,} scored, {task.fields[failed]:,} failed"
        with progress_bar(console, "replaying", shown) as progress:
            task = progress.add_task("replay", total=total, scored=0, failed=0)
            for event, where, payload in offers:
                if event is not None:
                    rescorer.offer(event, where, payload)
                progress.update(task, advance=1, scored=rescorer.counts.scored, failed=rescorer.counts.failed)
            counts = rescorer.finish()
            progress.update(task, scored=counts.scored, failed=counts.failed)
    return ReplayResult(name, source, counts, time.monotonic() - started)


def _from_topic(records: Iterator[Message]) -> Iterator[Offer]:
    for record in records:
        payload = record.value() or b""
        try:
            yield SubmissionEvent.model_validate_json(payload), origin(record), payload
        except ValidationError:  # the live scorer dead-lettered it already
            yield None, origin(record), payload


def _from_log(events: Iterator[SubmissionEvent]) -> Iterator[Offer]:
    for event in events:
        yield event, f"postgres:submissions/{event.submission_id}", wire(event)


def _summary(result: ReplayResult) -> Table:
    table = Table(title="replay summary", show_header=False)
    counts, elapsed_s = result.counts, result.elapsed_s
    rows = [
        ("detector", result.detector),
        ("read from", result.source),
        ("in the window", f"{counts.in_window:,}"),
        ("scored", f"{counts.scored:,}"),
        ("failed", f"{counts.failed:,}"),
        ("elapsed", f"{elapsed_s:.1f} s"),
        ("rate", f"{counts.in_window / elapsed_s if elapsed_s else 0:,.1f} texts/s"),
    ]
    for name, value in rows:
        table.add_row(name, value)
    return table
