"""Kill the bridge (SIGKILL, a real `veritext bridge` process) while tasks are in flight and start
it again: every task is answered, each exactly once, and none is stored or scored twice in the
log. Real RabbitMQ, real broker, real PostgreSQL; the model is a slow double so the kill lands
mid-stream. The restarted bridge serves its metrics and health over HTTP, and counts the tasks it
answered."""

import json
import os
import signal
import subprocess
import sys
import uuid
from collections import Counter
from pathlib import Path

import httpx
from confluent_kafka import Consumer, TopicPartition
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from store.models import Score, Submission
from stream.embedded_broker import free_port
from tests.bridge.helpers import Task, collect, scoring, send
from tests.doubles import FixedScoreDetector
from tests.helpers import wait_until

ROOT = Path(__file__).resolve().parents[2]
N = 400


def _start_bridge(kafka, rabbit, metrics_port: int = 0) -> subprocess.Popen:
    env = {
        **os.environ,
        "VERITEXT_KAFKA_BOOTSTRAP": kafka.bootstrap,
        "VERITEXT_KAFKA_TOPIC_PREFIX": kafka.topic_prefix,
        "VERITEXT_RABBITMQ_URL": rabbit.url,
        "VERITEXT_RABBITMQ_QUEUE": rabbit.bridge.queue,
        "VERITEXT_RABBITMQ_DEAD_LETTER_QUEUE": rabbit.bridge.dead_letter_queue,
        "VERITEXT_RABBITMQ_RESULTS_EXCHANGE": rabbit.bridge.results_exchange,
        "VERITEXT_RABBITMQ_PREFETCH": "100",
        "VERITEXT_RABBITMQ_METRICS_PORT": str(metrics_port),
    }
    return subprocess.Popen([sys.executable, "-m", "veritext", "bridge"], cwd=ROOT, env=env)


def _counts(engine) -> tuple[int, int, int]:
    with Session(engine) as s:
        return (
            s.scalar(select(func.count()).select_from(Submission)) or 0,
            s.scalar(select(func.count()).select_from(Score)) or 0,
            s.scalar(select(func.count(func.distinct(Score.submission_id)))) or 0,
        )


def _answered(metrics_url: str) -> float | None:
    for family in text_string_to_metric_families(httpx.get(metrics_url, timeout=5).text):
        for sample in family.samples:
            if sample.name == "veritext_bridge_tasks_total" and sample.labels == {"outcome": "answered"}:
                return sample.value
    return None


def _events_in(kafka, topic: str) -> int:
    consumer = Consumer({"bootstrap.servers": kafka.bootstrap, "group.id": f"count-{uuid.uuid4().hex}"})
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        marks = [consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10) for p in partitions]
    finally:
        consumer.close()
    return sum(high - low for low, high in marks)


def test_bridge_killed_mid_flight_answers_every_task_once_and_scores_none_twice(kafka, engine, rabbit):
    tasks = [
        Task(
            json.dumps({"text": f"task {i} {uuid.uuid4()}"}).encode(), correlation_id=f"c-{i}", reply_to=rabbit.replies
        )
        for i in range(N)
    ]
    send(rabbit.url, rabbit.bridge.queue, tasks)
    with scoring(kafka, engine, FixedScoreDetector(delay_s=0.05), max_batch=8):
        bridge = _start_bridge(kafka, rabbit)
        try:
            replies = collect(rabbit.url, rabbit.replies, N // 5, timeout_s=120)
        finally:
            bridge.send_signal(signal.SIGKILL)
            bridge.wait(10)
        replies += collect(rabbit.url, rabbit.replies, N, timeout_s=1, idle_s=0.5)  # sent before the kill
        answered_before_kill = len(replies)
        assert 0 < answered_before_kill < N, "the kill landed mid-stream"

        port = free_port()
        bridge = _start_bridge(kafka, rabbit, metrics_port=port)
        try:
            replies += collect(rabbit.url, rabbit.replies, N - answered_before_kill, timeout_s=180)
            replies += collect(rabbit.url, rabbit.replies, N, timeout_s=10, idle_s=3)  # a repeat would show here
            assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
            assert _answered(f"http://127.0.0.1:{port}/metrics") == N - answered_before_kill
        finally:
            bridge.terminate()
            assert bridge.wait(30) == 0, "SIGTERM stops the bridge cleanly"
        wait_until(lambda: _counts(engine)[:2] == (N, N), timeout_s=60, what="the log to hold every task once")

    assert Counter(r.correlation_id for r in replies) == {t.correlation_id: 1 for t in tasks}
    assert _counts(engine) == (N, N, N), "no task stored or scored twice"
    assert _events_in(kafka, kafka.topics.submissions) > N, "tasks in flight at the kill were redelivered"
