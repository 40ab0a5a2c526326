"""Backpressure instead of collapse, on a real broker and PostgreSQL: past the scorers' backlog bound
new submissions get 503 with Retry-After (nothing is written), past the cap on waiting requests a
synchronous one gets 503 while an asynchronous one is still accepted, past the bound on submissions in
progress any submission gets a 503 at once, quick submits past the number answered within the target
latency get a 503 at once, bodies past their limit get 413
before they are parsed, and the gateway stays ready while only the database is down."""

import functools
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient

from ingest.gateway import GatewaySettings, create_app
from ingest.gateway.admission import LatencyLimit
from schemas.errors import ServiceUnavailable
from store.batches import SqlBatchStore
from store.db import make_engine
from store.queries import SqlSubmissionStore
from store.recorder import SqlSubmissionRecorder
from tests.helpers import wait_until
from tests.pipeline import count_rows, pipeline


def test_past_the_backlog_bound_submissions_get_503_with_retry_after(kafka, engine):
    with pipeline(kafka, engine, detector=None, backlog_limit=3) as p:
        for i in range(5):  # no scorer runs: every text stays in the backlog
            assert p.client.post("/v1/texts", json={"text": f"backlog text {i}"}).status_code == 202
        backlog = p.client.app.state.submitter.backlog
        wait_until(lambda: backlog.texts == 5, what="the monitor read the backlog")
        refused = p.client.post("/v1/texts", json={"text": "one too many"})
        assert refused.status_code == 503 and refused.headers["retry-after"] == "5"
        assert "5 texts behind" in refused.json()["detail"]
        batch = p.client.post(
            "/v1/batches", content=b'{"text": "a"}\n', headers={"content-type": "application/x-ndjson"}
        )
        assert batch.status_code == 503 and "retry-after" in batch.headers
        wait_until(lambda: count_rows(engine)[0] == 5)
        assert count_rows(engine)[0] == 5, "nothing refused was written"


def test_past_the_cap_on_waiting_requests_a_synchronous_submit_gets_503(kafka, engine):
    gateway = GatewaySettings(max_sync_waits=2, sync_timeout_s=30)
    with pipeline(kafka, engine, detector=None, gateway=gateway) as p:
        submitter = p.client.app.state.submitter
        waiting = [
            threading.Thread(
                target=p.client.post, args=(f"/v1/texts?wait={6 + i}",), kwargs={"json": {"text": f"w{i}"}}
            )
            for i in range(2)
        ]
        for thread in waiting:
            thread.start()
        wait_until(lambda: submitter.waiting == 2, what="two requests waiting for their score")
        refused = p.client.post("/v1/texts?wait=5", json={"text": "a third would wait"})
        assert refused.status_code == 503 and refused.headers["retry-after"] == "5"
        assert "already wait" in refused.json()["detail"]
        assert p.client.post("/predict", json={"text": "the legacy route too"}).status_code == 503
        assert p.client.post("/v1/texts", json={"text": "without waiting: accepted"}).status_code == 202
        for thread in waiting:
            thread.join(30)
        assert submitter.waiting == 0


def test_past_the_bound_on_submissions_in_progress_a_submission_gets_a_fast_503(kafka, engine):
    gateway = GatewaySettings(max_in_flight=2, sync_timeout_s=30)
    with pipeline(kafka, engine, detector=None, gateway=gateway) as p:
        submitter = p.client.app.state.submitter
        waiting = [
            threading.Thread(target=p.client.post, args=("/v1/texts?wait=6",), kwargs={"json": {"text": f"w{i}"}})
            for i in range(2)
        ]
        for thread in waiting:
            thread.start()
        wait_until(lambda: submitter.waiting == 2, what="two submissions in progress")
        started = time.monotonic()
        refused = p.client.post("/v1/texts", json={"text": "a third in progress"})
        assert refused.status_code == 503 and refused.headers["retry-after"] == "5"
        assert time.monotonic() - started < 1.0 and "2 submissions in progress" in refused.json()["detail"]
        assert p.client.post("/predict", json={"text": "the legacy route too"}).status_code == 503
        assert p.client.get("/readyz").status_code == 200, "reads are not counted"
        for thread in waiting:
            thread.join(30)
        assert p.client.post("/v1/texts", json={"text": "once they are done: accepted"}).status_code == 202


def test_quick_submits_slower_than_the_target_are_shed_with_a_fast_503(kafka, engine):
    """Every quick submit takes longer than a target of 1 µs: the limit falls to its floor, so of many at
    once some are answered 503 at once; none is lost, and one with `?wait` is not held to it."""
    gateway = GatewaySettings(target_latency_ms=0.001)
    with pipeline(kafka, engine, detector=None, gateway=gateway) as p, ThreadPoolExecutor(24) as pool:
        quick = p.client.app.state.quick_limit
        answers = []
        for round_ in range(30):  # each window of 100 slow answers takes a fifth off: 10 to the floor
            texts = range(round_ * 240, (round_ + 1) * 240)
            answers += pool.map(lambda i: p.client.post("/v1/texts", json={"text": f"quick {i}"}), texts)
            if quick.limit == 4 and any(a.status_code == 503 for a in answers):
                break
        codes = [a.status_code for a in answers]
        assert quick.limit == 4 and set(codes) == {202, 503}, (quick.limit, set(codes))
        refused = next(a for a in answers if a.status_code == 503)
        assert "at its capacity" in refused.json()["detail"] and refused.headers["retry-after"] == "5"
        accepted = codes.count(202)
        wait_until(lambda: count_rows(engine)[0] == accepted, what="every accepted text stored")


def test_the_quick_limit_follows_answer_times():
    limit = LatencyLimit(target_s=0.1, ceiling=64)
    start = limit.limit
    for _ in range(300):
        limit.observe(0.01)
    assert limit.limit == start + 3, "one more after each window of 100 answers within the target"
    for _ in range(98):
        limit.observe(0.01)
    limit.observe(0.5)
    limit.observe(0.5)
    assert limit.limit == pytest.approx((start + 3) * 0.8), "2% past the target: a fifth less"
    for _ in range(5000):
        limit.observe(0.5)
    assert limit.limit == 4, "never below the floor"


def test_bodies_past_their_limit_get_413_before_parsing(kafka, engine):
    gateway = GatewaySettings(max_text_chars=1_000, batch_max_bytes=10_000, batch_max_lines=2)
    with pipeline(kafka, engine, detector=None, gateway=gateway) as p:
        declared = p.client.post(
            "/v1/texts", content=b"{" + b" " * 80_000 + b"}", headers={"content-type": "application/json"}
        )
        assert declared.status_code == 413 and "limit is 71536" in declared.json()["detail"]

        def chunked():
            yield b'{"text": "'
            for _ in range(100):
                yield b"x" * 1_000
            yield b'"}'

        streamed = p.client.post("/v1/texts", content=chunked(), headers={"content-type": "application/json"})
        assert streamed.status_code == 413 and "larger than the limit" in streamed.json()["detail"]
        lines = b"".join(b'{"text": "line %d"}\n' % i for i in range(3))
        batch = p.client.post("/v1/batches", content=lines, headers={"content-type": "application/x-ndjson"})
        assert batch.status_code == 202 and batch.json()["accepted"] == 2
        assert "limit of 2 lines" in batch.json()["rejects"][0]["reason"]


def test_ready_without_the_database_unless_submissions_are_recorded_there(kafka):
    down = make_engine("postgresql+psycopg://postgres@127.0.0.1:1/none", pool_size=1)
    for recorder, expected in ((None, 200), (SqlSubmissionRecorder(down), 503)):
        app = create_app(GatewaySettings(), kafka, SqlSubmissionStore(down), SqlBatchStore(down), recorder=recorder)
        with TestClient(app) as client:
            answer = client.get("/readyz")
        assert answer.status_code == expected, answer.text
        assert answer.json()["checks"]["broker"] == "ok" and answer.json()["checks"]["database"] == "unreachable"
        assert "127.0.0.1" not in answer.text and "postgres" not in answer.text  # no host, no user


def test_one_key_cannot_take_every_wait(kafka, engine):
    """Past its share of the wait cap, a key's synchronous submits get 503; another key still waits."""
    gateway = GatewaySettings(max_sync_waits=4, max_sync_waits_per_key=2, sync_timeout_s=30)
    with pipeline(kafka, engine, detector=None, gateway=gateway) as p:  # no scorer: every wait runs its course
        submitter, portal = p.client.app.state.submitter, p.client.portal

        def waiting(text: str, tenant: str):
            return functools.partial(submitter.submit, text, source="http", tenant=tenant, wait_s=5)

        busy = [portal.start_task_soon(waiting(f"busy {i}", "busy")) for i in range(2)]
        wait_until(lambda: submitter.waiting == 2, what="two requests of one key waiting")
        with pytest.raises(ServiceUnavailable, match="of this key already wait"):
            portal.call(waiting("a third of the busy key", "busy"))
        quiet = portal.start_task_soon(waiting("another key", "quiet"))
        wait_until(lambda: submitter.waiting == 3, what="another key's request waiting")
        for future in [*busy, quiet]:
            assert future.result(30)[1] is None  # waited its time out, nothing refused
        assert submitter.waiting == 0 and not submitter.waiting_by_key
