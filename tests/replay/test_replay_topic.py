"""`veritext replay` from the topic: a window of submissions re-scored with a second detector
version (the double's `double-2`) while the live scores (`double-1`) stay; nothing outside the
window is touched, the live scorer group's committed offsets do not move, and replaying twice
adds no row. Then `veritext compare` on the two versions. Real broker, PostgreSQL and commands."""

import json
import uuid
from datetime import UTC, datetime

from confluent_kafka import Consumer, TopicPartition
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from schemas.events import SubmissionEvent
from sink.worker import SinkWorker
from store.models import Score, Submission
from stream.producer import EventProducer
from tests.cli import veritext
from tests.doubles import FixedScoreDetector
from tests.helpers import running, wait_until
from tests.pipeline import pipeline


def _submit(kafka, texts: list[str]) -> list[SubmissionEvent]:
    events = [SubmissionEvent(submission_id=uuid.uuid4(), text=t) for t in texts]
    with EventProducer(kafka) as producer:
        for e in events:
            producer.send(kafka.topics.submissions, str(e.submission_id), e, timestamp=e.submitted_at)
        producer.flush()
    return events


def _scores(engine, version: str) -> set[uuid.UUID]:
    with Session(engine) as s:
        return set(s.scalars(select(Score.submission_id).where(Score.detector_version == version)))


def _committed(kafka, group: str, topic: str) -> dict[int, int]:
    """The group's committed offsets on `topic`, read without joining the group."""
    consumer = Consumer({"bootstrap.servers": kafka.bootstrap, "group.id": group, "enable.auto.commit": False})
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        return {
            tp.partition: tp.offset for tp in consumer.committed([TopicPartition(topic, p) for p in partitions], 10)
        }
    finally:
        consumer.close()


def _last_offsets(kafka, topic: str) -> dict[int, int]:
    """The offset of the last record of each non-empty partition of `topic`."""
    reader = Consumer({"bootstrap.servers": kafka.bootstrap, "group.id": f"peek-{uuid.uuid4().hex}"})
    try:
        partitions = reader.list_topics(topic, timeout=10).topics[topic].partitions
        reader.assign([TopicPartition(topic, p, 0) for p in partitions])
        last: dict[int, int] = {}
        while records := reader.consume(1000, 1.0):
            for r in records:
                last[r.partition()] = max(last.get(r.partition(), -1), r.offset())
        return last
    finally:
        reader.close()


def _sink_drained(kafka, group: str) -> bool:
    """Whether the sink committed past the last record of every [scores] partition."""
    committed = _committed(kafka, group, kafka.topics.scores)
    return all(committed.get(p, -1) > offset for p, offset in _last_offsets(kafka, kafka.topics.scores).items())


def test_replay_rescores_the_window_once_and_leaves_the_live_group_alone(kafka, database_url, engine):
    before = _submit(kafka, [f"before the window {i}" for i in range(10)])
    since = datetime.now(UTC)
    inside = _submit(kafka, [f"inside the window {i}" for i in range(25)])
    until = datetime.now(UTC)
    after = _submit(kafka, [f"after the window {i}" for i in range(10)])
    everything = {e.submission_id for e in before + inside + after}

    with pipeline(kafka, engine, detector=FixedScoreDetector()):  # the live scorer, version double-1
        wait_until(lambda: _scores(engine, "double-1") == everything, timeout_s=60, what="live scores")
    live_group = f"{kafka.topic_prefix}-scorer"
    live_offsets = _committed(kafka, live_group, kafka.topics.submissions)
    assert sum(live_offsets.values()) > 0

    sink_group = f"{kafka.topic_prefix}-sink"
    window = ["--since", since.isoformat(), "--until", until.replace(tzinfo=None).isoformat()]  # naive = UTC
    with running(SinkWorker(kafka, engine, group_id=sink_group)):
        first = veritext(kafka, database_url, "replay", *window, "--detector", "tests.doubles:fixed_v2")
        assert first.returncode == 0, first.stderr
        assert "no longer holds" not in first.stderr, "the topic holds the window: no fallback"
        wait_until(lambda: _scores(engine, "double-2") == {e.submission_id for e in inside}, timeout_s=60)

        second = veritext(kafka, database_url, "replay", *window, "--detector", "tests.doubles:fixed_v2")
        assert second.returncode == 0, second.stderr
        wait_until(lambda: _sink_drained(kafka, sink_group), timeout_s=60, what="the sink to store every score")

    with Session(engine) as s:
        rows = s.execute(select(Score.submission_id, Score.detector_version)).all()
    assert len(rows) == len(everything) + len(inside), "one new score per submission in the window, none twice"
    assert _scores(engine, "double-2") == {e.submission_id for e in inside}, "none outside the window"
    assert _committed(kafka, live_group, kafka.topics.submissions) == live_offsets, (
        "the live scorer's committed offsets did not move"
    )

    compared = veritext(
        kafka, database_url, "compare", "--detector", "double-1", "--detector", "fixed-double@double-2", "--json"
    )
    assert compared.returncode == 0, compared.stderr
    report = json.loads(compared.stdout)
    assert report["both_scored"] == len(inside)
    assert report["a"] == "fixed-double@double-1" and report["b"] == "fixed-double@double-2"
    flips = report["flipped_human_to_machine"] + report["flipped_machine_to_human"]
    assert report["agreement"] == (len(inside) - flips) / len(inside)
    assert 0 < report["max_abs_shift"] <= 1, "the two versions score differently"

    acme = [e.submission_id for e in inside[:5]]
    with Session(engine) as s, s.begin():
        s.execute(update(Submission).where(Submission.id.in_(acme)).values(tenant="acme"))
    for tenant, expected in (("acme", len(acme)), ("nobody", 0)):
        one = veritext(
            kafka,
            database_url,
            "compare",
            "--detector",
            "double-1",
            "--detector",
            "double-2",
            "--tenant",
            tenant,
            "--json",
        )
        assert one.returncode == 0, one.stderr
        assert json.loads(one.stdout)["both_scored"] == expected, tenant
