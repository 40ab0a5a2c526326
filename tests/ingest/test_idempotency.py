"""`Idempotency-Key` on `POST /v1/texts` and `POST /v1/batches`: a retried request gets the same
submission (or batch), never a second one. Real broker and PostgreSQL; the model is the test double."""

import threading

from tests.doubles import FixedScoreDetector
from tests.helpers import wait_until
from tests.pipeline import count_rows, pipeline, status_of


def test_a_retried_text_is_one_submission_and_one_score(kafka, engine):
    with pipeline(kafka, engine, detector=FixedScoreDetector()) as p:
        headers = {"Idempotency-Key": "client-42/attempt"}
        first = p.client.post("/v1/texts", json={"text": "Sent, then sent again."}, headers=headers)
        again = p.client.post("/v1/texts", json={"text": "Sent, then sent again."}, headers=headers)
        assert first.status_code == again.status_code == 202, again.text
        assert first.json()["submission_id"] == again.json()["submission_id"]
        wait_until(lambda: status_of(p.client, first.json()["submission_id"]) == "scored", timeout_s=60)
        waited = p.client.post("/v1/texts?wait=20", json={"text": "Sent, then sent again."}, headers=headers)
        assert waited.status_code == 200 and waited.json()["submission_id"] == first.json()["submission_id"]
        other = p.client.post("/v1/texts", json={"text": "Another text, same key."}, headers=headers)
        assert other.status_code == 422 and "used for another text" in other.json()["detail"]
        unkeyed = p.client.post("/v1/texts", json={"text": "Sent, then sent again."})
        assert unkeyed.json()["submission_id"] != first.json()["submission_id"]
        wait_until(lambda: count_rows(engine) == (2, 2), timeout_s=60)
        bad = p.client.post("/v1/texts", json={"text": "x"}, headers={"Idempotency-Key": "has spaces"})
        assert bad.status_code == 422 and "Idempotency-Key" in bad.json()["detail"]


def test_a_retried_batch_is_the_same_batch(kafka, engine):
    body = b'{"text": "Line one."}\n{"text": ""}\n{"text": "Line three."}\n'
    headers = {"content-type": "application/x-ndjson", "Idempotency-Key": "upload-7"}
    with pipeline(kafka, engine, detector=FixedScoreDetector()) as p:
        first = p.client.post("/v1/batches", content=body, headers=headers)
        again = p.client.post("/v1/batches", content=body, headers=headers)
        assert first.status_code == again.status_code == 202, again.text
        assert first.json()["batch_id"] == again.json()["batch_id"]
        assert (again.json()["accepted"], again.json()["rejected"]) == (2, 1)
        wait_until(lambda: count_rows(engine) == (2, 2), timeout_s=60)
        progress = p.client.get(first.json()["href"]).json()
        assert (progress["submitted"], progress["scored"]) == (2, 2)


def test_one_key_raced_with_two_texts_gives_one_submission_and_a_422(kafka, engine):
    """Concurrent pairs under one key, different texts, submissions recorded first (as under `up`): one
    of each pair is accepted and the other answered 422, whatever the timing (the check is in the
    insert's transaction). Without a recorder the sink still never stores a score of the other text
    (tests/store/test_writer.py)."""
    from concurrent.futures import ThreadPoolExecutor

    from fastapi.testclient import TestClient
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from ingest.gateway import GatewaySettings, create_app
    from store.batches import SqlBatchStore
    from store.models import Submission
    from store.queries import SqlSubmissionStore
    from store.recorder import SqlSubmissionRecorder

    pairs = 20
    app = create_app(
        GatewaySettings(),
        kafka,
        SqlSubmissionStore(engine),
        SqlBatchStore(engine),
        recorder=SqlSubmissionRecorder(engine),
    )
    with TestClient(app) as client, ThreadPoolExecutor(8) as pool:

        def post(i: int, which: str):
            text = f"Pair {i}, text {which}: each one its own words."
            return client.post("/v1/texts", json={"text": text}, headers={"Idempotency-Key": f"race-{i}"})

        answers = list(pool.map(lambda job: post(*job), [(i, w) for i in range(pairs) for w in "AB"]))
    for i in range(pairs):
        codes = sorted(a.status_code for a in answers[2 * i : 2 * i + 2])
        assert codes == [202, 422], [a.text for a in answers[2 * i : 2 * i + 2]]
    with Session(engine) as session:
        stored = set(session.scalars(select(Submission.id)))
    accepted = [a.json()["submission_id"] for a in answers if a.status_code == 202]
    assert len(stored) == pairs and {str(i) for i in stored} == set(accepted)


def test_two_requests_waiting_on_one_key_both_get_the_score(kafka, engine):
    """A retry sent while the first request still waits: both wait for the one submission, both answered."""
    headers = {"Idempotency-Key": "impatient-client"}
    answers: list = []
    with pipeline(kafka, engine, detector=FixedScoreDetector(delay_s=2.0)) as p:

        def post() -> None:
            answers.append(p.client.post("/v1/texts?wait=20", json={"text": "Waited for twice."}, headers=headers))

        waiting = [threading.Thread(target=post) for _ in range(2)]
        for thread in waiting:
            thread.start()
        for thread in waiting:
            thread.join(30)
    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    assert answers[0].json()["submission_id"] == answers[1].json()["submission_id"]
    assert answers[0].json()["scores"] == answers[1].json()["scores"] != []
