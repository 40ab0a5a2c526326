"""Metrics after texts flow through the embedded pipeline (real broker, real PostgreSQL; the model
is the double): the right names and labels, and counters equal to the rows stored in PostgreSQL."""

from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from sink.worker import SinkWorker
from store.models import Failure, Score, Submission
from tests.doubles import FixedScoreDetector
from tests.helpers import wait_until
from tests.pipeline import pipeline, status_of

DETECTOR = "fixed-double@double-1"
BAD = "this text makes the double fail"


def _samples(exposition: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(exposition)
        for s in family.samples
    }


def _lag(registry: CollectorRegistry, group: str) -> dict[tuple[str, str], float]:
    return {
        (s.labels["topic"], s.labels["partition"]): s.value
        for metric in registry.collect()
        if metric.name == "veritext_consumer_lag"
        for s in metric.samples
        if s.labels["group"] == group
    }


def _rows(engine: Engine) -> dict[str, float]:
    with Session(engine) as s:
        return {
            "submissions": s.scalar(select(func.count()).select_from(Submission)),
            "scores": s.scalar(select(func.count()).select_from(Score)),
            "tokens": s.scalar(select(func.coalesce(func.sum(Score.n_tokens), 0))),
            "failures": s.scalar(select(func.count()).select_from(Failure).where(Failure.stage == "scorer")),
        }


def test_metrics_carry_their_labels_and_counters_match_the_log(kafka, engine):
    texts = [f"text number {i} flows through the pipeline to be counted" for i in range(7)]
    with pipeline(kafka, engine, FixedScoreDetector(fail_on=[BAD])) as p:
        ids = [p.client.post("/v1/texts", json={"text": t}).json()["submission_id"] for t in texts]
        bad_id = p.client.post("/v1/texts", json={"text": BAD}).json()["submission_id"]
        assert p.client.get("/v1/texts/00000000-0000-0000-0000-000000000000").status_code == 404
        assert p.client.get("/no/such/path").status_code == 404
        wait_until(
            lambda: all(status_of(p.client, i) == "scored" for i in ids) and status_of(p.client, bad_id) == "failed",
            timeout_s=60,
            what="every text scored and the bad one failed",
        )
        assert p.scorer is not None
        scorer, sink = p.scorer.metrics.registry, p.sink.metrics.registry
        partitions = {str(n) for n in range(kafka.partitions)}
        topics = kafka.topics
        wait_until(
            lambda: _lag(scorer, f"{topics.prefix}-scorer") == {(topics.submissions, n): 0 for n in partitions},
            timeout_s=30,
            what="the scorer's lag on every partition, down to 0",
        )
        wait_until(
            lambda: _lag(sink, f"{topics.prefix}-sink") == {(t, n): 0 for t in topics.all() for n in partitions},
            timeout_s=30,
            what="the sink's lag on every partition of the three topics, down to 0",
        )
        gateway = _samples(p.client.get("/metrics").text)
    rows = _rows(engine)
    tokens = rows.pop("tokens")
    assert rows == {"submissions": 8, "scores": 7, "failures": 1} and tokens > 0

    def g(name: str, **labels: str) -> float | None:
        return gateway.get((name, frozenset(labels.items())))

    assert g("veritext_gateway_requests_total", method="POST", route="/v1/texts", status="202") == 8
    reads = "/v1/texts/{submission_id}"  # the template, whatever the id (polled until stored, so 404s too)
    assert (g("veritext_gateway_requests_total", method="GET", route=reads, status="404") or 0) >= 1
    assert (g("veritext_gateway_requests_total", method="GET", route=reads, status="200") or 0) >= 8
    assert g("veritext_gateway_requests_total", method="GET", route="unmatched", status="404") == 1
    assert g("veritext_gateway_request_seconds_count", method="POST", route="/v1/texts") == 8
    assert g("veritext_submissions_produced_total", source="http") == rows["submissions"]
    assert (g("process_resident_memory_bytes") or 0) > 0

    assert scorer.get_sample_value("veritext_scorer_texts_total", {"detector": DETECTOR}) == rows["scores"]
    assert scorer.get_sample_value("veritext_scorer_tokens_total", {"detector": DETECTOR}) == tokens
    assert scorer.get_sample_value("veritext_scorer_batch_size_sum") == 8  # the failing text was in a batch too
    batches = scorer.get_sample_value("veritext_scorer_batch_seconds_count", {"detector": DETECTOR})
    assert batches is not None and batches >= 1
    assert scorer.get_sample_value("veritext_scorer_batch_size_count") == batches
    assert scorer.get_sample_value("veritext_scorer_queue_wait_seconds_count") == 8
    assert (scorer.get_sample_value("veritext_scorer_texts_per_second", {"detector": DETECTOR}) or 0) > 0
    assert (scorer.get_sample_value("veritext_scorer_tokens_per_second", {"detector": DETECTOR}) or 0) > 0
    assert scorer.get_sample_value("veritext_dead_letters_total", {"stage": "scorer"}) == rows["failures"]
    assert (scorer.get_sample_value("process_resident_memory_bytes") or 0) > 0

    for table in ("submissions", "scores"):
        assert sink.get_sample_value("veritext_sink_rows_written_total", {"table": table}) == rows[table]
    assert sink.get_sample_value("veritext_sink_rows_written_total", {"table": "failures"}) == rows["failures"]
    assert sink.get_sample_value("veritext_end_to_end_seconds_count", {"detector": DETECTOR}) == rows["scores"]
    assert (sink.get_sample_value("veritext_sink_write_seconds_count") or 0) >= 1


def test_a_redelivered_batch_is_not_counted_twice(kafka, engine):
    """A second sink group re-reads every topic from the start: the idempotent writes insert
    nothing, and its row counters stay at 0 while the rows it read stay 8 + 8 + 0."""
    texts = [f"counted once, text {i}" for i in range(8)]
    with pipeline(kafka, engine, FixedScoreDetector()) as p:
        ids = [p.client.post("/v1/texts", json={"text": t}).json()["submission_id"] for t in texts]
        wait_until(lambda: all(status_of(p.client, i) == "scored" for i in ids), timeout_s=60)
    again = SinkWorker(kafka, engine, group_id=f"{kafka.topic_prefix}-sink-again")
    assert again.run(stop_when_idle_s=10) == 16
    for table in ("submissions", "scores", "failures"):
        assert again.metrics.registry.get_sample_value("veritext_sink_rows_written_total", {"table": table}) == 0
    assert again.metrics.registry.get_sample_value("veritext_end_to_end_seconds_count", {"detector": DETECTOR}) is None
