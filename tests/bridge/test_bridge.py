"""The bridge on real RabbitMQ, the real broker and real PostgreSQL, with the model double (these
tests are about mechanics): a thousand tasks answered once each, and malformed tasks moved to the
dead-letter queue with their reason; the bridge's task counters agree with what came back."""

import json
import time
import uuid
from collections import Counter

from sqlalchemy import select
from sqlalchemy.orm import Session

from ingest.bridge import Bridge
from ingest.bridge.messages import SUBMISSION_NAMESPACE
from ingest.bridge.metrics import FOLLOWER, BridgeMetrics
from store.models import Submission
from tests.bridge.helpers import Task, collect, drain, queue_depth, scoring, send
from tests.doubles import FixedScoreDetector
from tests.helpers import LEGACY_RESULT, running, wait_until
from tests.pipeline import count_rows

N = 1000


def _lag(bridge: Bridge) -> dict[tuple[str, str], float]:
    """The outcome follower's `veritext_consumer_lag` by (topic, partition)."""
    return {
        (s.labels["topic"], s.labels["partition"]): s.value
        for metric in bridge.metrics.registry.collect()
        if metric.name == "veritext_consumer_lag"
        for s in metric.samples
        if s.labels["group"] == FOLLOWER
    }


def _tasks(bridge: Bridge) -> dict[str, float]:
    """`veritext_bridge_tasks_total` by outcome (0 for an outcome never counted)."""
    registry = bridge.metrics.registry
    return {
        outcome: registry.get_sample_value("veritext_bridge_tasks_total", {"outcome": outcome}) or 0
        for outcome in ("answered", "malformed", "failed")
    }


def _task(i: int, text: str, reply_to: str) -> Task:
    body: dict[str, object] = {"text": text} if i % 2 else {"data": {"text": text}}
    if i % 3 == 0:
        body["id"] = f"client-{i}"
    return Task(json.dumps(body).encode(), correlation_id=f"c-{i}", reply_to=reply_to)


def test_a_thousand_tasks_get_a_thousand_replies_each_correlation_id_once(kafka, engine, rabbit):
    texts = [f"task {i} {uuid.uuid4()}" for i in range(N)]
    double = FixedScoreDetector()
    expected = {f"c-{i}": (text, double.score([text])[0]) for i, text in enumerate(texts)}
    bridge = Bridge(rabbit.bridge, kafka, BridgeMetrics(lag_interval_ms=200))
    with scoring(kafka, engine, FixedScoreDetector(), max_batch=64), running(bridge):
        send(rabbit.url, rabbit.bridge.queue, [_task(i, t, rabbit.replies) for i, t in enumerate(texts)])
        replies = collect(rabbit.url, rabbit.replies, N, timeout_s=240)
        replies += collect(rabbit.url, rabbit.replies, N, timeout_s=10, idle_s=3)  # a repeat would show here
        published = drain(rabbit.url, rabbit.results)
        wait_until(lambda: count_rows(engine) == (N, N), timeout_s=60, what="the log to hold every task")
        followed = {
            (t, str(p)): 0 for t in (kafka.topics.scores, kafka.topics.dead_letter) for p in range(kafka.partitions)
        }
        wait_until(lambda: _lag(bridge) == followed, timeout_s=30, what="the follower's lag on every partition, 0")

    assert Counter(r.correlation_id for r in replies) == dict.fromkeys(expected, 1)
    for reply in replies:
        body = json.loads(reply.body)
        text, verdict = expected[reply.correlation_id]
        match = LEGACY_RESULT.match(body["result"])
        assert match and match["text"] == text and match["p"] == f"{verdict.probability:.3f}"
        assert (body["probability"], body["label"]) == (verdict.probability, verdict.label)
        assert body["detector_version"] == double.version and reply.message_id == body["submission_id"]
    assert sorted(r.correlation_id for r in published) == sorted(expected)
    assert all(r.routing_key == f"score.{json.loads(r.body)['label']}" for r in published)

    with Session(engine) as s:
        rows = s.execute(select(Submission.id, Submission.source, Submission.correlation_id)).all()
    assert {source for _, source, _ in rows} == {"rabbitmq"}
    assert {c for _, _, c in rows} == set(expected)
    by_correlation = {c: submission_id for submission_id, _, c in rows}
    assert by_correlation["c-3"] == uuid.uuid5(SUBMISSION_NAMESPACE, "id:client-3"), "the id names the submission"
    assert _tasks(bridge) == {"answered": N, "malformed": 0, "failed": 0}


MALFORMED = {
    b"not json at all": "body is not JSON",
    b"\xff\xfe{}": "body is not UTF-8",
    b"[1, 2]": "body must be a JSON object",
    b'{"txt": "a typo in the key"}': "no text",
    b'{"text": ""}': "at least one non-whitespace character",
    b'{"data": {"text": "   "}}': "at least one non-whitespace character",
    b'{"text": 42}': "text must be a string",
    json.dumps({"text": "x" * 1001}).encode(): "text has 1001 characters; the maximum is 1000",
    b'{"text": "fine", "id": [1]}': "`id` must be a string or an integer",
    b'{"text": "fine", "id": "p\\u0000N"}': "`id` contains the control character or lone surrogate U+0000",
    b'{"data": {"text": "fine", "id": "q\\u0007"}}': "`id` contains the control character or lone surrogate U+0007",
}
FAILING_TEXT = "a text the detector double fails on"


def test_malformed_tasks_land_in_the_dead_letter_queue_with_their_reason(kafka, engine, rabbit):
    bad = [Task(body, correlation_id=f"bad-{i}", reply_to=rabbit.replies) for i, body in enumerate(MALFORMED)]
    failing = Task(json.dumps({"text": FAILING_TEXT}).encode(), correlation_id="fails", reply_to=rabbit.replies)
    good = [Task(json.dumps({"text": f"good {i}"}).encode(), correlation_id=f"good-{i}") for i in range(2)]
    good = [Task(t.body, t.correlation_id, rabbit.replies) for t in good]
    tasks = [*bad[:4], good[0], *bad[4:], failing, good[1]]
    bridge = Bridge(rabbit.bridge, kafka)
    with scoring(kafka, engine, FixedScoreDetector(fail_on=[FAILING_TEXT])), running(bridge):
        send(rabbit.url, rabbit.bridge.queue, tasks)
        replies = collect(rabbit.url, rabbit.replies, len(tasks), timeout_s=120)
        dead = drain(rabbit.url, rabbit.bridge.dead_letter_queue)
        time.sleep(2)  # a task requeued in a loop would come back to the dead-letter queue meanwhile
        assert drain(rabbit.url, rabbit.bridge.dead_letter_queue) == []
        assert queue_depth(rabbit.url, rabbit.bridge.queue) == 0

    answers = {r.correlation_id: json.loads(r.body) for r in replies}
    assert set(answers) == {t.correlation_id for t in tasks}
    assert {c for c, body in answers.items() if "result" in body} == {"good-0", "good-1"}
    assert answers["fails"]["error"].startswith("scoring failed: ")

    reasons = {m.correlation_id: m.headers["x-veritext-reason"] for m in dead}
    assert len(dead) == len(bad) + 1 == len(reasons)
    for task, reason in zip(bad, MALFORMED.values(), strict=True):
        assert reason in reasons[task.correlation_id], (task.body, reasons[task.correlation_id])
        assert reason in answers[task.correlation_id]["error"]
    assert reasons["fails"].startswith("scoring failed: ")
    assert {m.correlation_id: m.body for m in dead} == {t.correlation_id: t.body for t in [*bad, failing]}
    assert _tasks(bridge) == {"answered": 2, "malformed": len(bad), "failed": 1}
    dead_letters = bridge.metrics.registry.get_sample_value("veritext_dead_letters_total", {"stage": "bridge"})
    assert dead_letters == len(bad), "a scoring failure is the scorer's dead letter, not counted again here"
