"""End to end with the real packaged model: 50 English and Russian texts through HTTP, each
scored exactly once in PostgreSQL, statuses moving queued -> scored; and `/predict` answering the
original format with the probability that was stored."""

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from schemas.errors import InputError
from store.models import Score, Submission
from tests.helpers import LEGACY_RESULT, read_texts, wait_until
from tests.pipeline import count_rows, pipeline, status_of

pytestmark = pytest.mark.model


def _texts() -> list[str]:
    return (
        read_texts("en/xsum.jsonl", "human", 7)
        + read_texts("en/xsum.jsonl", "machine", 6)
        + read_texts("en/writing.jsonl", "machine", 6)
        + read_texts("en/squad.jsonl", "human", 6)
        + read_texts("ru/ruatd_llama2.jsonl", "human", 7)
        + read_texts("ru/ruatd_llama2.jsonl", "machine", 6)
        + read_texts("ru/lenta_news_human.jsonl", "human", 6)
        + read_texts("ru/llm_explainer_machine.jsonl", "machine", 6)
    )


def test_fifty_texts_scored_once_each_by_the_real_model(kafka, engine, real_detector):
    texts = _texts()
    assert len(texts) == 50
    with pipeline(kafka, engine, detector=None) as p:  # accepted and logged, not yet scored
        ids = []
        for text in texts:
            answer = p.client.post("/v1/texts", json={"text": text})
            assert answer.status_code == 202, answer.text
            ids.append(answer.json()["submission_id"])
        wait_until(lambda: all(status_of(p.client, i) == "queued" for i in ids), timeout_s=60)
    with pipeline(kafka, engine, detector=real_detector) as p:
        wait_until(lambda: count_rows(engine) == (50, 50), timeout_s=600, interval_s=1, what="50 scores")
        assert all(status_of(p.client, i) == "scored" for i in ids)
        view = p.client.get(f"/v1/texts/{ids[0]}").json()
        assert [s["detector_version"] for s in view["scores"]] == [real_detector.version]
    with Session(engine) as s:
        assert s.scalar(select(func.count(func.distinct(Score.submission_id)))) == 50
        probabilities = s.scalars(select(Score.probability)).all()
    assert all(0.0 <= q <= 1.0 for q in probabilities)
    assert len(set(probabilities)) > 40, "real scores differ from text to text"


def test_predict_answers_the_original_format_with_the_stored_probability(kafka, engine, real_detector):
    text = read_texts("en/xsum.jsonl", "machine", 1)[0]
    with pipeline(kafka, engine, detector=real_detector) as p:
        answer = p.client.post("/predict", json={"text": text})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        match = LEGACY_RESULT.match(body["result"])
        assert match and match["text"] == text and body["text"] == text

        def stored() -> float | None:
            with Session(engine) as s:
                return s.scalar(
                    select(Score.probability)
                    .join(Submission, Submission.id == Score.submission_id)
                    .where(Submission.text == text)
                )

        assert f"{wait_until(stored):.3f}" == match["p"]


def test_the_python_api_gives_the_verdict_the_pipeline_stores(kafka, engine, real_detector):
    from veritext import Detector

    text = read_texts("ru/llm_explainer_machine.jsonl", "machine", 1)[0]
    with pipeline(kafka, engine, detector=real_detector) as p:
        answer = p.client.post("/v1/texts?wait=30", json={"text": "\u200b" + text + "\x00"})  # cleaned the same way
        assert answer.status_code == 200, answer.text
        stored = answer.json()["scores"][0]
    detector = Detector.load()
    assert detector.spec == f"{real_detector.name}@{real_detector.version}" == f"probe@{stored['detector_version']}"
    [verdict] = detector.score(["\u200b" + text + "\x00"])
    assert verdict.probability == pytest.approx(stored["probability"], abs=1e-6)
    assert verdict.label == stored["label"] and verdict.confidence == stored["confidence"]
    assert [(s.start, s.end) for s in verdict.segments] == [(s["start"], s["end"]) for s in stored["segments"]]
    with pytest.raises(InputError, match="text 1: text contains a lone surrogate"):
        detector.score(["fine", "lone \ud800"])


def test_a_long_text_is_judged_by_its_window_and_does_not_make_a_short_one_late(kafka, engine, real_detector):
    from veritext import Detector

    paragraphs = read_texts("en/xsum.jsonl", "human", 40)
    long_text = "\n\n".join(paragraphs * (99_000 // len("\n\n".join(paragraphs)) + 1))[:99_000]
    short_text = read_texts("en/squad.jsonl", "human", 1)[0]
    with pipeline(kafka, engine, detector=real_detector) as p:
        long_id = p.client.post("/v1/texts", json={"text": long_text}).json()["submission_id"]
        answer = p.client.post("/v1/texts?wait=20", json={"text": short_text})
        assert answer.status_code == 200, answer.text  # scored, not a 504 behind the long text
        long_score = wait_until(lambda: p.client.get(f"/v1/texts/{long_id}").json()["scores"], timeout_s=60)[0]
    assert 9_000 <= long_score["read_chars"] <= 10_000
    assert long_score["segments"][-1]["end"] <= long_score["read_chars"]
    assert answer.json()["scores"][0]["read_chars"] is None
    [verdict] = Detector.load().score([long_text])
    assert verdict.read_chars == long_score["read_chars"]
    assert verdict.probability == pytest.approx(long_score["probability"], abs=1e-6)
