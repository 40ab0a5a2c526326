"""`POST /v1/batches` and `GET /v1/batches/{id}` on real Kafka and PostgreSQL, with the model
replaced by a double: an NDJSON body streamed in small chunks, its bad lines rejected by number,
the good ones scored; and the answers to bodies that are not NDJSON."""

import json
import uuid

from ingest.gateway import GatewaySettings
from tests.doubles import FixedScoreDetector
from tests.helpers import wait_until
from tests.pipeline import count_rows, pipeline

NDJSON = {"content-type": "application/x-ndjson"}


def _chunks(body: bytes, size: int = 7):
    """The body in small pieces, so lines arrive split across chunks."""
    for start in range(0, len(body), size):
        yield body[start : start + size]


def test_a_streamed_ndjson_batch_is_accepted_line_by_line_and_scored(kafka, engine):
    texts = [f"Bulk text {i} over HTTP, пример {i}." for i in range(30)]
    lines = [json.dumps({"text": t, "external_id": f"h-{i}"}, ensure_ascii=False) for i, t in enumerate(texts)]
    lines.insert(3, '{"text": ')  # line 4
    lines.insert(6, json.dumps({"text": "   "}))  # line 7
    lines.insert(9, json.dumps({"text": "ok", "colour": "red"}))  # line 10
    lines.insert(12, "")  # line 13: skipped
    lines.insert(15, json.dumps({"text": "x" * 101}))  # line 16
    body = ("\n".join(lines)).encode()  # no final line break: the last line still counts

    with pipeline(kafka, engine, detector=FixedScoreDetector(), gateway=GatewaySettings(max_text_chars=100)) as p:
        answer = p.client.post("/v1/batches", content=_chunks(body), headers=NDJSON)
        assert answer.status_code == 202, answer.text
        accepted = answer.json()
        assert (accepted["accepted"], accepted["rejected"]) == (len(texts), 4)
        reasons = {r["line"]: r["reason"] for r in accepted["rejects"]}
        assert sorted(reasons) == [4, 7, 10, 16]
        assert "not valid JSON" in reasons[4] and "non-whitespace" in reasons[7]
        assert "colour" in reasons[10] and "maximum is 100" in reasons[16]

        progress = wait_until(
            lambda: (b := p.client.get(accepted["href"]).json())["status"] == "scored" and b,
            timeout_s=60,
            what="the batch to be scored",
        )
        assert (progress["submitted"], progress["scored"], progress["failed"], progress["rejected"]) == (30, 30, 0, 4)
        assert progress["name"] == "POST /v1/batches"


def test_bodies_that_are_not_ndjson_and_unknown_batches(kafka, engine):
    with pipeline(kafka, engine, detector=None) as p:
        wrong_type = p.client.post("/v1/batches", json={"text": "one"})
        assert wrong_type.status_code == 415 and "x-ndjson" in wrong_type.json()["detail"]
        empty = p.client.post("/v1/batches", content=b"\n\n", headers=NDJSON)
        assert empty.status_code == 422 and "no lines" in empty.json()["detail"]
        assert p.client.get(f"/v1/batches/{uuid.uuid4()}").status_code == 404
        assert p.client.get("/v1/batches/not-a-uuid").status_code == 422
        assert "/v1/batches" in p.client.get("/openapi.json").json()["paths"]
    assert count_rows(engine) == (0, 0)
