"""The gateway through HTTP on real Kafka and PostgreSQL, with the model replaced by a double."""

import uuid

import pytest
from confluent_kafka import Consumer, TopicPartition

from ingest.gateway import GatewaySettings
from stream.settings import KafkaSettings
from tests.doubles import FixedScoreDetector
from tests.helpers import LEGACY_RESULT, wait_until
from tests.pipeline import count_rows, pipeline, status_of


def _events_in(kafka: KafkaSettings, topic: str) -> int:
    consumer = Consumer({"bootstrap.servers": kafka.bootstrap, "group.id": f"count-{uuid.uuid4().hex}"})
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        return sum(consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in partitions)
    finally:
        consumer.close()


def test_submit_then_read_moves_from_queued_to_scored(kafka, engine):
    with pipeline(kafka, engine, detector=None) as p:  # no scorer yet: the text stays queued
        answer = p.client.post("/v1/texts", json={"text": "A text to score.", "external_id": "ext-1", "lang": "en"})
        assert answer.status_code == 202, answer.text
        body = answer.json()
        assert body["status"] == "queued"
        assert wait_until(lambda: status_of(p.client, body["submission_id"])) == "queued"
        view = p.client.get(body["href"]).json()
        assert view["scores"] == [] and view["external_id"] == "ext-1" and view["lang"] == "en"
    with pipeline(kafka, engine, detector=FixedScoreDetector()) as p:
        wait_until(lambda: status_of(p.client, body["submission_id"]) == "scored")
        view = p.client.get(body["href"]).json()
        assert [s["detector_version"] for s in view["scores"]] == ["double-1"]


def test_wait_returns_the_score_and_predict_keeps_the_original_format(kafka, engine):
    with pipeline(kafka, engine, detector=FixedScoreDetector()) as p:
        waited = p.client.post("/v1/texts?wait=20", json={"text": "Score me now."})
        assert waited.status_code == 200, waited.text
        assert waited.json()["status"] == "scored"

        text = "Привет, это текст для проверки."
        answer = p.client.post("/predict", json={"text": text})
        assert answer.status_code == 200, answer.text
        assert set(answer.json()) == {"text", "result"}
        match = LEGACY_RESULT.match(answer.json()["result"])
        assert match and match["text"] == text and answer.json()["text"] == text

        second = p.client.post("/predictions/predict", json={"data": {"text": text}})
        assert second.status_code == 200, second.text
        assert 0 <= second.json()["probability"] <= 1 and second.json()["label"] in ("human", "machine")
        assert f"{second.json()['probability']:.3f}" == match["p"]  # same text, same deterministic score


def test_predict_times_out_with_504_and_the_text_is_still_scored(kafka, engine):
    with pipeline(kafka, engine, detector=None, gateway=GatewaySettings(sync_timeout_s=0.5)) as p:
        answer = p.client.post("/predict", json={"text": "Nobody is scoring right now."})
        assert answer.status_code == 504
        submission_id = answer.json()["submission_id"]
    with pipeline(kafka, engine, detector=FixedScoreDetector()) as p:
        wait_until(lambda: status_of(p.client, submission_id) == "scored")


BAD_INPUTS = [
    ("/v1/texts", {}, 422),
    ("/v1/texts", {"text": ""}, 422),
    ("/v1/texts", {"text": "   \n\t "}, 422),
    ("/v1/texts", {"text": 42}, 422),
    ("/v1/texts", {"text": "ok", "unknown": 1}, 422),
    ("/v1/texts", {"text": "x" * 101}, 413),
    ("/v1/texts?wait=31", {"text": "ok"}, 422),
    ("/predict", {"txt": "typo"}, 422),
    ("/predict", {"text": " "}, 422),
    ("/predict", {"text": "x" * 101}, 413),
    ("/predictions/predict", {"text": "not nested"}, 422),
    ("/predictions/predict", {"data": {"text": ""}}, 422),
]


@pytest.mark.parametrize(("path", "body", "status"), BAD_INPUTS)
def test_bad_input_gets_a_reason_and_writes_nothing(kafka, engine, path, body, status):
    with pipeline(kafka, engine, detector=None, gateway=GatewaySettings(max_text_chars=100)) as p:
        answer = p.client.post(path, json=body)
        assert answer.status_code == status, answer.text
        assert answer.json()["detail"], "a reason is given"
        assert "Traceback" not in answer.text
    assert _events_in(kafka, kafka.topics.submissions) == 0
    assert count_rows(engine) == (0, 0)


def test_malformed_json_and_unknown_ids(kafka, engine):
    with pipeline(kafka, engine, detector=None) as p:
        answer = p.client.post(
            "/v1/texts", content=b'{"text": "unterminated', headers={"content-type": "application/json"}
        )
        assert answer.status_code == 422 and answer.json()["detail"]
        assert p.client.get(f"/v1/texts/{uuid.uuid4()}").status_code == 404
        assert p.client.get("/v1/texts/not-a-uuid").status_code == 422
    assert _events_in(kafka, kafka.topics.submissions) == 0


def test_health_and_readiness_and_docs(kafka, engine):
    with pipeline(kafka, engine, detector=None) as p:
        assert p.client.get("/healthz").json() == {"status": "ok"}
        ready = p.client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["checks"] == {"broker": "ok", "producer": "ok", "database": "ok"}
        assert "/v1/texts" in p.client.get("/openapi.json").json()["paths"]
