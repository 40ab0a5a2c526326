"""The one intake rule (schemas/text.py) at every door: the same poison text gets the same answer from
`POST /v1/texts`, the two original routes, `POST /v1/batches` and `veritext ingest`, and the pipeline
keeps scoring afterwards. Real broker and PostgreSQL; the model is the test double."""

import json
import uuid

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from schemas.events import SubmissionEvent
from schemas.text import TextRejected, clean_text
from store.models import Failure, Submission
from stream.producer import EventProducer
from tests.cli import veritext
from tests.doubles import FixedScoreDetector
from tests.helpers import wait_until
from tests.pipeline import count_rows, pipeline, status_of

NUL = "Before\x00after, a text with a NUL byte and a bell\x07 in it."
INVISIBLE = "Zero\u200bwidth spaces\u200b and a BOM\ufeff hidden in a text."
DECOMPOSED = "Cafe\u0301 au lait, a decomposed accent."
SURROGATE = "A lone \ud800 surrogate: valid JSON, not Unicode."
BLANK_ONCE_CLEANED = "\u200b \x00 \u2060"


def _post(client, path: str, body: object):
    """JSON as a client on the wire sends it: ASCII with \\u escapes, so a lone surrogate gets through."""
    return client.post(path, content=json.dumps(body).encode(), headers={"content-type": "application/json"})


def test_clean_text_removes_what_carries_nothing_and_says_so() -> None:
    assert clean_text(NUL) == CleanTextLike("Beforeafter, a text with a NUL byte and a bell in it.", 2, "control")
    assert clean_text(INVISIBLE).text == "Zerowidth spaces and a BOM hidden in a text."
    assert clean_text(INVISIBLE).changes == ("removed 3 invisible characters",)
    assert clean_text(DECOMPOSED).text == "Café au lait, a decomposed accent."
    assert clean_text(DECOMPOSED).changes == ("normalised to Unicode NFC",)
    assert clean_text("Tabs\tand\r\nnewlines stay.") == clean_text("Tabs\tand\r\nnewlines stay.")
    assert clean_text("Tabs\tand\r\nnewlines stay.").changes == ()
    with pytest.raises(TextRejected, match="lone surrogate U\\+D800 at character 7"):
        clean_text(SURROGATE)
    with pytest.raises(TextRejected, match="non-whitespace"):
        clean_text(BLANK_ONCE_CLEANED)


class CleanTextLike:
    """Equal to a CleanText with this text and one change naming `count` characters of `kind`."""

    def __init__(self, text: str, count: int, kind: str) -> None:
        self.text, self.count, self.kind = text, count, kind

    def __eq__(self, other: object) -> bool:
        return getattr(other, "text", None) == self.text and getattr(other, "changes", None) == (
            f"removed {self.count} {self.kind} characters",
        )


@pytest.mark.parametrize(
    ("path", "wrap"),
    [("/v1/texts", lambda t: {"text": t}), ("/predictions/predict", lambda t: {"data": {"text": t}})],
)
def test_each_poison_text_gets_the_documented_answer_and_scoring_goes_on(kafka, engine, path, wrap):
    with pipeline(kafka, engine, detector=FixedScoreDetector()) as p:
        for text, reason in ((SURROGATE, "surrogate"), (BLANK_ONCE_CLEANED, "non-whitespace")):
            answer = _post(p.client, path, wrap(text))
            assert answer.status_code == 422 and reason in answer.text, answer.text
        ids = []
        accepted = 202 if path == "/v1/texts" else 200  # the legacy route answers with the score
        for text in (NUL, INVISIBLE, DECOMPOSED, "And a plain text after them all."):
            answer = _post(p.client, path, wrap(text))
            assert answer.status_code == accepted, answer.text
            ids.append(answer.json()["submission_id"])
        for submission_id in ids:
            wait_until(lambda i=submission_id: status_of(p.client, i) == "scored", timeout_s=60)
        views = [p.client.get(f"/v1/texts/{i}").json() for i in ids]
        assert views[0]["normalised"] == ["removed 2 control characters"]
        assert views[1]["normalised"] == views[1]["tampering"] == ["removed 3 invisible characters"]
        assert views[0]["tampering"] == [] and views[3]["normalised"] == views[3]["tampering"] == []
        look_alike = _post(p.client, path, wrap("A m\u043ed\u0435l with two Cyrillic letters, read as Latin."))
        look_alike_id = look_alike.json()["submission_id"]
        wait_until(lambda: status_of(p.client, look_alike_id) == "scored", timeout_s=60)
        view = p.client.get(f"/v1/texts/{look_alike_id}").json()
        assert view["tampering"] == ["found 2 look-alike letters of another script in 1 word"]
    with Session(engine) as session:
        stored = {str(s.id): s.text for s in session.scalars(select(Submission))}
    assert stored[ids[0]] == clean_text(NUL).text and stored[ids[2]] == clean_text(DECOMPOSED).text


def test_predict_answers_the_same_way(kafka, engine):
    with pipeline(kafka, engine, detector=FixedScoreDetector()) as p:
        assert _post(p.client, "/predict", {"text": SURROGATE}).status_code == 422
        answer = _post(p.client, "/predict", {"text": NUL})
        assert answer.status_code == 200, answer.text
        assert answer.json()["text"] == clean_text(NUL).text  # the text as stored and scored


def test_batches_reject_and_clean_line_by_line(kafka, engine):
    lines = [json.dumps({"text": t}) for t in (NUL, SURROGATE, INVISIBLE, BLANK_ONCE_CLEANED, "Plain.")]
    with pipeline(kafka, engine, detector=FixedScoreDetector()) as p:
        answer = p.client.post(
            "/v1/batches", content="\n".join(lines).encode(), headers={"content-type": "application/x-ndjson"}
        )
        assert answer.status_code == 202, answer.text
        body = answer.json()
        assert (body["accepted"], body["rejected"]) == (3, 2)
        assert {r["line"] for r in body["rejects"]} == {2, 4}
        assert "lone surrogate" in body["rejects"][0]["reason"]
        wait_until(lambda: count_rows(engine) == (3, 3), timeout_s=60)


def test_bulk_files_follow_the_same_rule(kafka, database_url, engine, tmp_path):
    path = tmp_path / "poison.jsonl"
    texts = (NUL, SURROGATE, INVISIBLE, BLANK_ONCE_CLEANED, "Plain.")
    path.write_text("\n".join(json.dumps({"text": t}) for t in texts) + "\n", encoding="utf-8")
    done = veritext(kafka, database_url, "ingest", str(path))
    assert done.returncode == 2, done.stderr
    rejects = [json.loads(line) for line in (tmp_path / "poison.jsonl.rejects.jsonl").read_text().splitlines()]
    assert [r["line"] for r in rejects] == [2, 4]
    assert "lone surrogate" in rejects[0]["reason"] and "non-whitespace" in rejects[1]["reason"]
    with pipeline(kafka, engine, detector=FixedScoreDetector()):
        wait_until(lambda: count_rows(engine) == (3, 3), timeout_s=60)


def test_a_row_postgresql_refuses_is_a_failure_and_the_sink_goes_on(kafka, engine):
    """A producer that skipped the intake rule: the sink stores the rest and a failure with the reason."""
    poison = SubmissionEvent(submission_id=uuid.uuid4(), text="NUL\x00 straight onto the topic")
    good = [SubmissionEvent(submission_id=uuid.uuid4(), text=f"Good text {i}.") for i in range(3)]
    with EventProducer(kafka) as producer:
        for event in (good[0], poison, *good[1:]):
            producer.send(kafka.topics.submissions, str(event.submission_id), event)
        producer.flush()
    with pipeline(kafka, engine, detector=None) as p:
        wait_until(lambda: count_rows(engine)[0] == 3, timeout_s=60)
        with Session(engine) as session:
            failure = session.scalars(select(Failure).where(Failure.submission_id == poison.submission_id)).one()
        assert failure.stage == "sink" and "\\u0000 cannot be converted to text" in failure.reason, failure.reason
        assert failure.subject == f"sink:{poison.submission_id}"  # keyed by what it is about, not by an offset
        answer = p.client.post("/v1/texts", json={"text": "The sink still stores what comes next."})
        wait_until(lambda: status_of(p.client, answer.json()["submission_id"]) == "queued", timeout_s=60)


def test_a_control_character_in_any_other_field_is_a_422_or_a_rejected_line(kafka, engine):
    """Ids and codes are refused, never cleaned; a batch stores its other lines and finishes."""
    with pipeline(kafka, engine, detector=FixedScoreDetector()) as p:
        for field in ("external_id", "lang", "detector"):
            answer = _post(p.client, "/v1/texts", {"text": "A plain text.", field: "a\u0000b"})
            assert answer.status_code == 422, answer.text
            assert "U+0000 at character 1" in answer.text and field in answer.text
        lines = [json.dumps({"text": f"Line {i}.", "external_id": f"id-{i}"}) for i in range(100)]
        lines.insert(40, json.dumps({"text": "Poisoned id.", "external_id": "x\u0000y"}))
        answer = p.client.post(
            "/v1/batches", content="\n".join(lines).encode(), headers={"content-type": "application/x-ndjson"}
        )
        assert answer.status_code == 202, answer.text
        body = answer.json()
        assert (body["accepted"], body["rejected"]) == (100, 1) and body["rejects"][0]["line"] == 41
        assert "U+0000" in body["rejects"][0]["reason"]
        wait_until(lambda: p.client.get(body["href"]).json()["status"] == "scored", timeout_s=60)
