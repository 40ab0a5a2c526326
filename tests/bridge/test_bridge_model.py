"""RPC round trip with the real packaged model: the example client of the original system sends a
text to the task queue and gets the reply on its own reply queue, with its correlation id and the
probability that PostgreSQL stored for that submission."""

import json
import subprocess
import sys
import uuid
from pathlib import Path
from uuid import UUID

import pytest
from sqlalchemy.orm import Session

from ingest.bridge import Bridge
from store.models import Score, Submission
from tests.bridge.helpers import scoring
from tests.helpers import LEGACY_RESULT, running, wait_until

pytestmark = pytest.mark.model

ROOT = Path(__file__).resolve().parents[2]


def test_rpc_round_trip_with_the_real_model(kafka, engine, rabbit, real_detector):
    text = (
        "The committee met on Tuesday to review the budget. After a long discussion, members agreed to "
        "postpone the vote until the auditors deliver their report next month."
    )
    correlation_id = str(uuid.uuid4())
    client = [sys.executable, str(ROOT / "examples" / "legacy_client.py"), text, "--body", "data"]
    client += ["--url", rabbit.url, "--queue", rabbit.bridge.queue, "--correlation-id", correlation_id]
    with scoring(kafka, engine, real_detector), running(Bridge(rabbit.bridge, kafka)):
        done = subprocess.run([*client, "--timeout", "300"], capture_output=True, text=True, timeout=330)
        assert done.returncode == 0, done.stderr
        answer = json.loads(done.stdout)

        def stored() -> tuple[Submission, Score] | None:
            with Session(engine) as s:
                submission_id = UUID(answer["reply"]["submission_id"])
                submission, score = (
                    s.get(Submission, submission_id),
                    s.get(Score, (submission_id, real_detector.version)),
                )
                return (submission, score) if submission and score else None

        submission, score = wait_until(stored, timeout_s=60, what="the submission and its score in PostgreSQL")

    reply = answer["reply"]
    assert answer["correlation_id"] == correlation_id
    match = LEGACY_RESULT.match(reply["result"])
    assert match and match["text"] == text
    assert reply["probability"] == score.probability and match["p"] == f"{score.probability:.3f}"
    assert (reply["label"], reply["detector_version"]) == (score.label, real_detector.version)
    assert (submission.text, submission.source, submission.correlation_id) == (text, "rabbitmq", correlation_id)
