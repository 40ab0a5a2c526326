"""Scoring worker mechanics on a real broker, with the model replaced by a double:
dead letters for undecodable records and for texts the detector fails on, and two scorers
sharing the partitions of one consumer group."""

import json
import uuid

from confluent_kafka import Consumer
from confluent_kafka import Producer as RawProducer
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from schemas.events import DeadLetterEvent, ScoreEvent, SubmissionEvent
from scorer.worker import ScoringWorker
from store.models import Failure
from stream.consumer import EventConsumer
from stream.producer import EventProducer
from tests.doubles import FixedScoreDetector, PreparingScoreDetector
from tests.helpers import running, wait_until
from tests.pipeline import pipeline, status_of


def _read_all(kafka, topic, model, expected, timeout_s=30.0):
    consumer = Consumer(
        {"bootstrap.servers": kafka.bootstrap, "group.id": f"read-{uuid.uuid4().hex}", "auto.offset.reset": "earliest"}
    )
    consumer.subscribe([topic])
    events = []
    try:
        wait_until(
            lambda: (
                events.extend(
                    model.model_validate_json(m.value()) for m in consumer.consume(100, 0.5) if m.error() is None
                )
                or len(events) >= expected
            ),
            timeout_s=timeout_s,
        )
    finally:
        consumer.close()
    return events


def _submit(kafka, texts):
    events = [SubmissionEvent(submission_id=uuid.uuid4(), text=t) for t in texts]
    with EventProducer(kafka) as producer:
        for e in events:
            producer.send(kafka.topics.submissions, str(e.submission_id), e)
        producer.flush()
    return events


def test_undecodable_record_is_dead_lettered_and_the_rest_scored(kafka, engine):
    raw = RawProducer({"bootstrap.servers": kafka.bootstrap})
    raw.produce(kafka.topics.submissions, key=b"bad", value=b"{not json")
    raw.produce(kafka.topics.submissions, key=b"bad2", value=json.dumps({"submission_id": "x"}).encode())
    raw.flush(10)
    good = _submit(kafka, ["one good text", "another good text"])
    with pipeline(kafka, engine, detector=FixedScoreDetector()) as p:
        for e in good:
            wait_until(lambda e=e: status_of(p.client, str(e.submission_id)) == "scored")
        letters = _read_all(kafka, kafka.topics.dead_letter, DeadLetterEvent, expected=2)
        assert {d.payload for d in letters} == {"{not json", '{"submission_id": "x"}'}
        assert all(d.stage == "scorer" and d.origin.startswith(kafka.topics.submissions) for d in letters)
        with Session(engine) as s:
            wait_until(lambda: s.scalar(select(func.count()).select_from(Failure)) == 2)


def test_a_text_the_detector_fails_on_fails_alone(kafka, engine):
    events = _submit(kafka, ["fine 1", "poison", "fine 2", "fine 3"])
    detector = FixedScoreDetector(fail_on=["poison"])
    with pipeline(kafka, engine, detector=detector) as p:
        statuses = {
            e.text: wait_until(lambda e=e: (s := status_of(p.client, str(e.submission_id))) != "queued" and s)
            for e in events
        }
        assert statuses == {"fine 1": "scored", "poison": "failed", "fine 2": "scored", "fine 3": "scored"}
        poisoned = p.client.get(f"/v1/texts/{events[1].submission_id}").json()
        assert "fail" in poisoned["failure"]
        with Session(engine) as s:
            failure = s.scalars(select(Failure).where(Failure.submission_id == events[1].submission_id)).one()
        assert failure.subject == f"scorer:{events[1].submission_id}@{detector.name}@{detector.version}"


def test_failures_at_a_reused_offset_are_two_rows_and_a_redelivered_one_is_one(kafka, engine):
    """A restarted embedded broker hands out the same offsets again: failures are keyed by their subject."""
    first, second = (
        DeadLetterEvent(submission_id=uuid.uuid4(), stage="scorer", reason="x", origin="submissions[0]@5", payload="")
        for _ in range(2)
    )
    with EventProducer(kafka) as producer:
        for event in (first, second, first):
            producer.send(kafka.topics.dead_letter, str(event.submission_id), event)
    with pipeline(kafka, engine, detector=None), Session(engine) as s:
        wait_until(lambda: s.scalar(select(func.count()).select_from(Failure)) == 2)
        assert set(s.scalars(select(Failure.submission_id))) == {first.submission_id, second.submission_id}


def test_a_batch_closes_at_its_token_budget_and_the_rest_comes_next(kafka):
    """12 texts of ~1,000 estimated tokens with a budget of 3,000: batches of at most 3, none lost."""
    detector = FixedScoreDetector()
    events = _submit(kafka, [f"long text {i} " + "word " * 800 for i in range(12)])
    with running(ScoringWorker(kafka, detector, group_id=f"{kafka.topic_prefix}-scorer", max_batch_tokens=3000)):
        wait_until(lambda: len(detector.scored) >= 12, timeout_s=60)
    assert sorted(detector.scored) == sorted(e.text for e in events), "each text scored once"
    assert max(detector.batches) <= 3 and len(detector.batches) >= 4


def test_a_text_longer_than_the_token_budget_is_scored_alone(kafka):
    detector = FixedScoreDetector()
    long_text = "a very long text " + "word " * 1_900  # ~2,400 estimated tokens, read whole (under 10,000 characters)
    events = _submit(kafka, ["short one", long_text, "short two"])
    with running(ScoringWorker(kafka, detector, group_id=f"{kafka.topic_prefix}-scorer", max_batch_tokens=256)):
        wait_until(lambda: len(detector.scored) >= 3, timeout_s=60)
    assert sorted(detector.scored) == sorted(e.text for e in events), "each text scored once"
    batches, start = [], 0
    for size in detector.batches:
        batches.append(detector.scored[start : start + size])
        start += size
    assert [long_text] in batches, "the text past the budget is a batch of its own"


def test_two_scorers_share_the_partitions_and_score_each_text_once(kafka):
    first, second = FixedScoreDetector(), FixedScoreDetector()
    group = f"{kafka.topic_prefix}-scorers"
    with (
        running(ScoringWorker(kafka, first, group_id=group, max_batch=4)),
        running(ScoringWorker(kafka, second, group_id=group, max_batch=4)),
    ):
        warm = _submit(kafka, [f"warm-up {i}" for i in range(40)])  # both members join while these flow
        wait_until(lambda: len(first.scored) + len(second.scored) >= len(warm), timeout_s=60)
        events = _submit(kafka, [f"text number {i}" for i in range(200)])
        scores = _read_all(kafka, kafka.topics.scores, ScoreEvent, expected=len(warm) + len(events), timeout_s=60)
    assert {s.submission_id for s in scores} == {e.submission_id for e in warm + events}
    late = [t for t in first.scored + second.scored if t.startswith("text number")]
    assert sorted(late) == sorted(e.text for e in events), "after the group settled, each text was scored once"
    assert first.scored and second.scored, "both scorers took a share"


def test_the_pipelined_scorer_prepares_the_next_batch_while_the_model_runs_and_commits_in_order(kafka, monkeypatch):
    """Prepare and model stages of 0.1 s each: the loop's thread prepares while the model's thread
    scores; every text is scored once, and each commit comes after the scores of everything it covers
    were flushed, partition by partition in increasing offsets."""
    detector = PreparingScoreDetector(delay_s=0.1)
    commits: list[tuple[dict[int, int], set[str]]] = []  # (partition -> next offset, texts scored by then)
    texts_at: dict[tuple[int, int], str] = {}
    original = EventConsumer.commit

    def observed_commit(consumer, records):
        for r in records:
            texts_at[r.partition(), r.offset()] = SubmissionEvent.model_validate_json(r.value()).text
        commits.append(({r.partition(): r.offset() + 1 for r in records}, set(detector.scored)))
        original(consumer, records)

    monkeypatch.setattr(EventConsumer, "commit", observed_commit)
    events = _submit(kafka, [f"pipelined text {i}" for i in range(60)])
    with running(ScoringWorker(kafka, detector, group_id=f"{kafka.topic_prefix}-scorer", max_batch=5)):
        scores = _read_all(kafka, kafka.topics.scores, ScoreEvent, expected=len(events), timeout_s=60)
        wait_until(lambda: sum(len(c[0]) for c in commits) and len(texts_at) >= len(events), timeout_s=30)
    assert sorted(detector.scored) == sorted(e.text for e in events), "each text scored once"
    assert sorted(s.submission_id for s in scores) == sorted(e.submission_id for e in events)
    assert {name for *_, name in detector.modelled} == {"model_0"}
    assert all(not name.startswith("model") for *_, name in detector.prepared)
    overlapped = [p for p in detector.prepared if any(m[0] < p[0] and p[1] < m[1] + 0.05 for m in detector.modelled)]
    assert len(overlapped) >= len(detector.prepared) // 2, "preparing overlaps the model's work"
    last: dict[int, int] = {}
    for offsets, scored_by_then in commits:
        for partition, next_offset in offsets.items():
            assert next_offset > last.get(partition, 0), "offsets commit in increasing order"
            covered = [t for (p, o), t in texts_at.items() if p == partition and last.get(p, 0) <= o < next_offset]
            assert set(covered) <= scored_by_then, "a batch commits only once its texts are scored"
            last[partition] = next_offset
