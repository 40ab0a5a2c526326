"""`run_pipelined` on its own, on the test broker: every record goes through prepare, compute and
finish once, batches finish in the order they were polled, compute runs on the worker thread and the
next batch is prepared (when it is there) before the one before it is finished, a batch's offsets are committed only
after its finish returned, a budget cuts batches short without losing the rest, and the group ends
with no lag."""

import threading
import time
import uuid

from confluent_kafka import Message

from schemas.events import SubmissionEvent
from stream.consumer import EventConsumer, position
from stream.lag import group_lag, partition_offsets
from stream.loop import run_pipelined
from stream.producer import EventProducer


def _produce(kafka, n: int) -> list[str]:
    texts = [f"pipelined record {i}" for i in range(n)]
    with EventProducer(kafka) as producer:
        for text in texts:
            event = SubmissionEvent(submission_id=uuid.uuid4(), text=text)
            producer.send(kafka.topics.submissions, str(event.submission_id), event)
        producer.flush()
    return texts


def test_run_pipelined_finishes_each_batch_in_order_and_commits_after_its_finish(kafka) -> None:
    texts = _produce(kafka, 40)
    group = f"{kafka.topic_prefix}-loop-{uuid.uuid4().hex[:6]}"
    consumer = EventConsumer(kafka, group, [kafka.topics.submissions])
    commits: list[list[tuple[int, int]]] = []
    original_commit = consumer.commit

    def commit(records: list[Message]) -> None:
        commits.append([position(r)[1:] for r in records])
        original_commit(records)

    consumer.commit = commit  # type: ignore[method-assign]
    events: list[tuple[str, int]] = []  # (stage, batch number), in the order they happened
    threads: dict[str, set[str]] = {"prepare": set(), "compute": set(), "finish": set()}
    finished: list[tuple[int, int]] = []
    lock = threading.Lock()

    def note(stage: str, batch: int) -> None:
        with lock:
            events.append((stage, batch))
            threads[stage].add(threading.current_thread().name)

    def prepare(records: list[Message]) -> tuple[int, list[Message]]:
        batch = sum(1 for stage, _ in events if stage == "prepare")
        note("prepare", batch)
        return batch, records

    def compute(prepared: tuple[int, list[Message]]) -> list[str]:
        batch, records = prepared
        note("compute", batch)
        time.sleep(0.05)
        return [SubmissionEvent.model_validate_json(r.value() or b"").text for r in records]

    def finish(records: list[Message], prepared: tuple[int, list[Message]], computed: list[str]) -> None:
        note("finish", prepared[0])
        assert len(commits) == prepared[0], "the batch before this one was committed, this one not yet"
        finished.extend(position(r)[1:] for r in records)
        seen.extend(computed)
        if len(seen) >= len(texts):
            stop.set()

    seen: list[str] = []
    stop = threading.Event()
    guard = threading.Timer(60, stop.set)  # a failing loop ends too
    guard.start()
    handled = run_pipelined(
        consumer,
        prepare,
        compute,
        finish,
        stop=stop,
        max_records=8,
        max_wait_s=0.5,
        budget=lambda records: 3,  # every batch cut to 3 records: the rest come first in the next one
    )
    guard.cancel()

    assert handled == len(texts) and sorted(seen) == sorted(texts), "every record once"
    batches = [batch for stage, batch in events if stage == "finish"]
    assert batches == sorted(batches) and len(batches) == len(commits), "finished and committed in poll order"
    assert all(len(c) <= 3 for c in commits), "the budget cut every batch"
    assert [pos for batch in commits for pos in batch] == finished, "each commit covers what was finished"
    for partition in {p for p, _ in finished}:
        offsets = [o for p, o in finished if p == partition]
        assert offsets == sorted(offsets) and len(set(offsets)) == len(offsets), "in offset order, none twice"
    assert threads["compute"].isdisjoint(threads["prepare"] | threads["finish"]), "compute on the worker thread"
    # a poll that comes back empty (the rest of a cut batch not fetched again yet) finishes the batch in
    # flight alone; otherwise the next batch is prepared before the one before it is finished
    ahead = [b for b in batches[1:] if events.index(("prepare", b)) < events.index(("finish", b - 1))]
    assert len(ahead) >= len(batches) // 2, (ahead, batches)
    offsets = partition_offsets(kafka, [kafka.topics.submissions])
    assert all(lag.lag == 0 for lag in group_lag(kafka, group, offsets)), "everything committed"
