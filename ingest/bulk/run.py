"""One bulk run: rows from a reader become submission events under one batch id, and go to
[submissions] through a producer whose local queue is bounded (see `stream.producer.bulk_config`),
so memory stays flat and a slow broker slows the reader down.

Rows are handled a chunk at a time (`CHUNK_ROWS` rows, fewer when their text fields add up to
`CHUNK_CHARS` characters: two chunks are in memory at once, and long texts must not make them large;
recording in chunks of 4,000 instead of 1,000 rows took the recorded run from 19,000 to 22,500 events
per second, bench/durability_bench.py): each is validated (a bad one goes to the rejects file), with
`--dedupe` its content hash is looked up (in the log database and among the texts of this run),
and the good ones are sent (recorded in the log database first when the broker is volatile:
ingest/recorder.py; a thread records the next chunk while this one is sent, so the two overlap, and a
chunk is sent only once it is recorded). An event counts as accepted only once the broker acknowledged it. The
batch ledger hears the counts every few seconds and at the end, also when the run stops early
(interrupted, or the broker refused an event: the run stops then, and the refused lines are in the
rejects file, to be sent again). While the scorers are further behind than the backlog bound
(ingest/backlog.py), the run waits before its next chunk: bulk slows down instead of burying the
scorers.
"""

import functools
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from uuid import UUID

from ingest.backlog import BacklogMonitor
from ingest.bulk.ledger import BatchLedger, HashIndex
from ingest.bulk.readers import Reader, Row
from ingest.bulk.records import RecordRules, random_ids
from ingest.bulk.rejects import RejectsFile
from ingest.recorder import SubmissionRecorder
from schemas.errors import DeliveryError, ServiceUnavailable
from schemas.events import SubmissionEvent, content_hash, wire
from stream.producer import EventProducer

__all__ = ["BulkIngest", "IngestCounts", "IngestSummary"]

log = logging.getLogger(__name__)

_Encoded = tuple[int, SubmissionEvent, bytes]  # a line's event and its wire form, recorded and sent as it is


@dataclass
class IngestCounts:
    read: int = 0  # rows looked at
    accepted: int = 0  # events the broker acknowledged
    rejected: int = 0  # rows not accepted (bad input, or refused by the broker)
    duplicates: int = 0  # texts skipped by --dedupe


@dataclass(frozen=True)
class IngestSummary:
    batch_id: UUID
    name: str
    counts: IngestCounts
    elapsed_s: float
    rejects: Path | None  # the rejects file, when anything was rejected
    stopped: str | None  # why the run ended before the end of the input

    @property
    def rate(self) -> float:
        """Accepted events per second."""
        return self.counts.accepted / self.elapsed_s if self.elapsed_s > 0 else 0.0


CHUNK_ROWS = 4000
CHUNK_CHARS = 8_000_000


def _chunks(rows: Iterable[Row], max_rows: int, max_chars: int) -> Iterator[list[Row]]:
    """Consecutive rows, at most `max_rows` of them, ending at the row whose string fields take their
    sum to `max_chars` characters."""
    chunk: list[Row] = []
    chars = 0
    for row in rows:
        chunk.append(row)
        if row.fields is not None:
            chars += sum(len(value) for value in row.fields.values() if isinstance(value, str))
        if len(chunk) == max_rows or chars >= max_chars:
            yield chunk
            chunk, chars = [], 0
    if chunk:
        yield chunk


class BulkIngest:
    def __init__(
        self,
        producer: EventProducer,
        topic: str,
        rules: RecordRules,
        ledger: BatchLedger,
        rejects: RejectsFile,
        *,
        hashes: HashIndex | None = None,
        recorder: SubmissionRecorder | None = None,
        backlog: BacklogMonitor | None = None,
        chunk_rows: int = CHUNK_ROWS,
        chunk_chars: int = CHUNK_CHARS,
        ledger_interval_s: float = 2.0,
    ) -> None:
        self.batch_id = uuid.uuid4()
        self.counts = IngestCounts()
        self.stop = threading.Event()  # set it (e.g. on SIGINT) to end the run after the current chunk
        self._producer = producer
        self._topic = topic
        self._rules = rules
        self._ledger = ledger
        self._rejects = rejects
        self._hashes = hashes
        self._recorder = recorder
        self._backlog = backlog
        self._seen: set[bytes] = set()  # content hashes sent by this run (with --dedupe only)
        self._chunk_rows = chunk_rows
        self._chunk_chars = chunk_chars
        self._ledger_interval_s = ledger_interval_s
        self._refused: str | None = None

    def run(self, reader: Reader, on_progress: Callable[[IngestCounts], None] | None = None) -> IngestSummary:
        started = time.monotonic()
        self._ledger.open_batch(self.batch_id, reader.name)
        log.info("batch %s: reading %s", self.batch_id, reader.name)
        stopped = None
        reported = started
        try:
            with ThreadPoolExecutor(1, thread_name_prefix="bulk-record") as recording:
                pending: tuple[list[_Encoded], Future[None]] | None = None
                for chunk in _chunks(reader.rows(), self._chunk_rows, self._chunk_chars):
                    self._wait_for_scorers()
                    events = [(line, event, wire(event)) for line, event in self._events(chunk)]  # encoded once
                    recorded = recording.submit(self._record_events, events)
                    if pending is not None:
                        self._send(*pending)
                    pending = (events, recorded)
                    self._producer.poll(0)
                    if on_progress is not None:
                        on_progress(self.counts)
                    if time.monotonic() - reported > self._ledger_interval_s:
                        self._record(finished=False)
                        reported = time.monotonic()
                    if self.stop.is_set() or self._refused:
                        break
                if pending is not None:
                    self._send(*pending)
            self._producer.flush()
        except (DeliveryError, ServiceUnavailable) as exc:
            stopped = str(exc)
        finally:
            self._record(finished=True)
            self._rejects.close()
        if self._refused:
            stopped = f"the broker refused an event ({self._refused}); the refused lines are in the rejects file"
        elif self.stop.is_set():
            stopped = "interrupted"
        if on_progress is not None:
            on_progress(self.counts)
        return IngestSummary(
            batch_id=self.batch_id,
            name=reader.name,
            counts=replace(self.counts),
            elapsed_s=time.monotonic() - started,
            rejects=self._rejects.path if self._rejects.count else None,
            stopped=stopped,
        )

    def _events(self, chunk: list[Row]) -> list[tuple[int, SubmissionEvent]]:
        events = []
        for row, submission_id in zip(chunk, random_ids(len(chunk)), strict=True):
            self.counts.read += 1
            fields = row.fields
            made = self._rules.event(fields, self.batch_id, submission_id) if fields is not None else row.problem
            if isinstance(made, SubmissionEvent):
                events.append((row.line, made))
            else:
                self._reject(row.line, made or "unreadable", row.raw)
        return self._new_texts(events) if self._hashes is not None else events

    def _new_texts(self, events: list[tuple[int, SubmissionEvent]]) -> list[tuple[int, SubmissionEvent]]:
        """Drop the events whose text the log or this run already has."""
        assert self._hashes is not None
        hashes = [content_hash(event.text) for _, event in events]
        known = self._hashes.known_hashes(set(hashes))
        fresh = []
        for (line, event), digest in zip(events, hashes, strict=True):
            key = bytes.fromhex(digest)[:16]
            if digest in known or key in self._seen:
                self.counts.duplicates += 1
                continue
            self._seen.add(key)
            fresh.append((line, event))
        return fresh

    def _record_events(self, events: list[_Encoded]) -> None:
        """Record a chunk in the log database when the broker is volatile (in the recording thread)."""
        if self._recorder is not None and events:
            self._recorder.record([value for _, _, value in events])

    def _send(self, events: list[_Encoded], recorded: Future[None]) -> None:
        """Send a chunk once it is recorded (`recorded` done); a chunk the database did not take is rejected."""
        try:
            recorded.result()
        except ServiceUnavailable as exc:
            for line, _, _ in events:
                self._reject(line, str(exc))
            raise
        for line, event, value in events:
            self._producer.send(
                self._topic,
                str(event.submission_id),
                value,
                timestamp=event.submitted_at,
                on_delivery=functools.partial(self._delivered, line),
            )

    def _wait_for_scorers(self) -> None:
        if self._backlog is None or not self._backlog.over:
            return
        log.info("batch %s: the scorers are %d texts behind; waiting", self.batch_id, self._backlog.texts)
        while self._backlog.over and not self.stop.is_set():
            self._producer.poll(0.5)

    def _delivered(self, line: int, error: str | None) -> None:
        if error is None:
            self.counts.accepted += 1
        else:
            self._refused = self._refused or error
            self._reject(line, f"the broker did not acknowledge it: {error}")

    def _reject(self, line: int, reason: str, raw: object = None) -> None:
        self.counts.rejected += 1
        self._rejects.add(line, reason, raw)

    def _record(self, *, finished: bool) -> None:
        self._ledger.record_progress(
            self.batch_id,
            submitted=self.counts.accepted,
            rejected=self.counts.rejected,
            duplicates=self.counts.duplicates,
            finished=finished,
        )
