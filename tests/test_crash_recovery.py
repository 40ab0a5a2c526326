"""Kill a worker process (SIGKILL) in the middle of a stream and start it again: no submission
is lost and none is stored or scored twice for one detector version. Real broker, real
PostgreSQL, real `veritext` processes; the model is a slow double so the kill lands mid-stream."""

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from schemas.events import SubmissionEvent
from scorer.worker import ScoringWorker
from sink.worker import SinkWorker
from store.models import Score, Submission
from stream.producer import EventProducer
from tests.doubles import FixedScoreDetector
from tests.helpers import running, wait_until

ROOT = Path(__file__).resolve().parents[1]
N = 240


def _start(component: str, kafka, database_url: str, *args: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "VERITEXT_KAFKA_BOOTSTRAP": kafka.bootstrap,
        "VERITEXT_KAFKA_TOPIC_PREFIX": kafka.topic_prefix,
        "VERITEXT_DATABASE_URL": database_url,
        "VERITEXT_SCORER_GROUP_ID": f"{kafka.topic_prefix}-scorer",
        "VERITEXT_SCORER_MAX_BATCH": "8",
        "VERITEXT_SINK_GROUP_ID": f"{kafka.topic_prefix}-sink",
        "VERITEXT_SINK_MAX_BATCH": "20",
    }
    return subprocess.Popen([sys.executable, "-m", "veritext", component, *args], cwd=ROOT, env=env)


def _counts(engine) -> tuple[int, int, int]:
    with Session(engine) as s:
        return (
            s.scalar(select(func.count()).select_from(Submission)) or 0,
            s.scalar(select(func.count()).select_from(Score)) or 0,
            s.scalar(select(func.count(func.distinct(Score.submission_id)))) or 0,
        )


def _submit(kafka, n: int) -> None:
    with EventProducer(kafka) as producer:
        for i in range(n):
            event = SubmissionEvent(submission_id=uuid.uuid4(), text=f"text {i} {uuid.uuid4()}")
            producer.send(kafka.topics.submissions, str(event.submission_id), event)
        producer.flush()


def _kill(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait(10)


def test_scorer_killed_mid_stream_loses_nothing_and_scores_nothing_twice(kafka, database_url, engine):
    _submit(kafka, N)
    with running(SinkWorker(kafka, engine, group_id=f"{kafka.topic_prefix}-sink")):
        scorer = _start("scorer", kafka, database_url, "--detector", "tests.doubles:slow_fixed")
        try:
            wait_until(lambda: 0 < _counts(engine)[1] < N // 2, timeout_s=90, interval_s=0.05, what="first scores")
        finally:
            _kill(scorer)
        killed_at = _counts(engine)[1]
        assert killed_at < N, "the kill landed mid-stream"
        scorer = _start("scorer", kafka, database_url, "--detector", "tests.doubles:slow_fixed")
        try:
            wait_until(lambda: _counts(engine)[1] == N, timeout_s=120, what="every text scored")
        finally:
            scorer.terminate()
            assert scorer.wait(30) == 0, "SIGTERM stops the scorer cleanly"
    assert _counts(engine) == (N, N, N)


def test_sink_killed_mid_stream_loses_nothing_and_stores_nothing_twice(kafka, database_url, engine):
    _submit(kafka, N)
    with running(ScoringWorker(kafka, FixedScoreDetector(), group_id=f"{kafka.topic_prefix}-scorer")):
        sink = _start("sink", kafka, database_url)
        try:
            wait_until(lambda: 0 < _counts(engine)[0] < N, timeout_s=90, interval_s=0.02, what="first rows")
        finally:
            _kill(sink)
        sink = _start("sink", kafka, database_url)
        try:
            wait_until(lambda: _counts(engine)[:2] == (N, N), timeout_s=120, what="every row stored")
        finally:
            sink.terminate()
            assert sink.wait(30) == 0, "SIGTERM stops the sink cleanly"
    assert _counts(engine) == (N, N, N)
