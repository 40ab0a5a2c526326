"""`veritext status` against the real broker and PostgreSQL (the model is the double): texts waiting
while no scorer runs, then throughput, live versions, lag drained and the dead letter once one does."""

import json
import logging

from typer.testing import CliRunner

from stream.settings import KafkaSettings
from tests.doubles import FixedScoreDetector
from tests.helpers import wait_until
from tests.pipeline import count_rows, pipeline, status_of
from veritext.cli import app

BAD = "this text makes the double fail"


def _status(kafka: KafkaSettings, database_url: str, *args: str) -> tuple[int, str]:
    env = {
        "VERITEXT_KAFKA_BOOTSTRAP": kafka.bootstrap,
        "VERITEXT_KAFKA_TOPIC_PREFIX": kafka.topic_prefix,
        "VERITEXT_DATABASE_URL": database_url,
        "VERITEXT_SCORER_GROUP_ID": f"{kafka.topic_prefix}-scorer",
        "VERITEXT_SINK_GROUP_ID": f"{kafka.topic_prefix}-sink",
        "COLUMNS": "160",
    }
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        result = CliRunner().invoke(app, ["status", *args], env=env)
    finally:  # the CLI points logging at the runner's stream, which closes when it returns
        root.handlers[:] = handlers
        root.setLevel(level)
    return result.exit_code, result.stdout + result.stderr


def test_status_shows_waiting_texts_then_throughput_versions_and_errors(kafka, engine, database_url):
    texts = [f"status text {i}, waiting for a scorer" for i in range(5)]
    with pipeline(kafka, engine, detector=None) as p:
        ids = [p.client.post("/v1/texts", json={"text": t}).json()["submission_id"] for t in texts]
        wait_until(lambda: count_rows(engine)[0] == 5, what="the sink stored the 5 submissions")
        code, out = _status(kafka, database_url, "--json")
        assert code == 0, out
        report = json.loads(out)
        assert report["waiting"] == 5
        assert report["submissions_total"] == 5 and report["submitted_per_s"] == 5 / 60
        assert report["scores_total"] == 0 and report["scored_per_s"] == 0 and report["versions"] == []
        assert report["dead_letters"] == 0 and report["failures"] == []
        scorer_lag = [p for p in report["lag"] if p["group"] == f"{kafka.topic_prefix}-scorer"]
        assert {p["topic"] for p in scorer_lag} == {kafka.topics.submissions}
        assert len(scorer_lag) == kafka.partitions and all(p["committed"] is None for p in scorer_lag)

    with pipeline(kafka, engine, FixedScoreDetector(fail_on=[BAD])) as p:
        bad_id = p.client.post("/v1/texts", json={"text": BAD}).json()["submission_id"]
        wait_until(
            lambda: all(status_of(p.client, i) == "scored" for i in ids) and status_of(p.client, bad_id) == "failed",
            timeout_s=60,
        )

        def drained() -> dict | None:
            code, out = _status(kafka, database_url, "--json")
            assert code == 0, out
            report = json.loads(out)
            return report if all(p["lag"] == 0 for p in report["lag"]) else None

        report = wait_until(drained, timeout_s=30, interval_s=0.5, what="every group's lag down to 0")
        assert report["waiting"] == 0
        assert report["submissions_total"] == 6 and report["scores_total"] == 5
        assert report["scored_per_s"] == 5 / 60
        [version] = report["versions"]
        assert (version["detector_name"], version["detector_version"]) == ("fixed-double", "double-1")
        assert version["live"] and version["total"] == 5 and version["last_minute"] == 5
        assert report["dead_letters"] == 1
        assert report["failures"] == [{"stage": "scorer", "last_hour": 1, "total": 1}]
        assert "this text makes the double fail" in report["latest_failure"]

        code, out = _status(kafka, database_url)
        assert code == 0, out
        for shown in ("texts waiting  0", "dead letters in topic  1", "double-1", "live", f"{kafka.topic_prefix}-sink"):
            assert shown in out, f"{shown!r} not in:\n{out}"


def test_status_names_an_unreachable_broker_in_one_line(kafka, database_url):
    code, out = _status(kafka.model_copy(update={"bootstrap": "127.0.0.1:1"}), database_url)
    assert code == 1
    assert out.startswith("ServiceUnavailable: Kafka at 127.0.0.1:1 did not answer") and "Traceback" not in out
