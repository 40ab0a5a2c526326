"""Webhooks on a real broker and PostgreSQL with a receiver on loopback (allowed explicitly): a verdict
is POSTed signed once stored, retried after the receiver failed twice, and every attempt is on the
submission; a receiver that is down for a while gets it once it is back; a private address is refused
unless the operator allows it; a bad callback URL, or one on a deployment without webhooks, is a 422 (a
rejected line in a batch). Each line of a batch may name its own callback; one receiver is sent a few
deliveries at a time, not a whole claim at once."""

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from schemas.webhooks import ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, WebhookSettings
from sink.webhooks import PER_RECEIVER
from stream.embedded_broker import free_port
from tests.doubles import FixedScoreDetector
from tests.helpers import wait_until
from tests.pipeline import pipeline

NDJSON = {"Content-Type": "application/x-ndjson"}
TEXT = "A text whose verdict a platform wants pushed to it, not polled for. It has two sentences."


@dataclass
class Receiver:
    port: int
    fail_first: int = 0
    answer_after_s: float = 0.0
    received: list[tuple[dict[str, str], bytes, int]] = field(default_factory=list)
    in_flight: int = 0
    most_in_flight: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/veritext"


@contextmanager
def receiving(receiver: Receiver) -> Iterator[Receiver]:
    """A receiver on loopback that answers 500 to its first `fail_first` requests, then 204, each after
    `answer_after_s`; it counts how many requests it holds at once."""
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            with lock:
                receiver.in_flight += 1
                receiver.most_in_flight = max(receiver.most_in_flight, receiver.in_flight)
            body = self.rfile.read(int(self.headers["Content-Length"]))
            time.sleep(receiver.answer_after_s)
            with lock:
                receiver.in_flight -= 1
                code = 500 if len(receiver.received) < receiver.fail_first else 204
                receiver.received.append((dict(self.headers), body, code))
            self.send_response(code)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", receiver.port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


def _settings(**overrides: object) -> WebhookSettings:
    return WebhookSettings(secret="deployment-secret", backoff_s=0.3, timeout_s=2, **overrides)


def test_a_verdict_is_delivered_signed_and_retried_after_the_receiver_failed_twice(kafka, engine):
    with (
        receiving(Receiver(free_port(), fail_first=2)) as receiver,
        pipeline(kafka, engine, FixedScoreDetector(), webhooks=_settings(allow_private=True)) as p,
    ):
        accepted = p.client.post("/v1/texts", json={"text": TEXT, "callback_url": receiver.url}).json()
        wait_until(lambda: any(code == 204 for *_, code in receiver.received), what="a delivery answered 204")
        assert [code for *_, code in receiver.received] == [500, 500, 204]

        headers, body, _ = receiver.received[-1]
        secret = p.client.get("/v1/webhooks/secret").json()["secret"]
        signed = hmac.new(secret.encode(), headers[TIMESTAMP_HEADER].encode() + b"." + body, hashlib.sha256)
        assert headers[SIGNATURE_HEADER] == f"v1={signed.hexdigest()}"
        verdict = json.loads(body)
        assert verdict["submission_id"] == accepted["submission_id"] and verdict["event"] == "score.stored"
        assert headers[ID_HEADER] == verdict["id"] == f"{accepted['submission_id']}:{verdict['detector_version']}"
        assert {h[ID_HEADER] for h, *_ in receiver.received} == {verdict["id"]}, "one id on every retry"
        score = p.client.get(accepted["href"]).json()["scores"][0]
        assert verdict["probability"] == score["probability"]

        (webhook,) = wait_until(lambda: p.client.get(accepted["href"]).json().get("webhooks"))
        wait_until(lambda: p.client.get(accepted["href"]).json()["webhooks"][0]["state"] == "delivered")
        attempts = p.client.get(accepted["href"]).json()["webhooks"][0]["attempts"]
        assert [a["status_code"] for a in attempts] == [500, 500, 204]
        assert webhook["url"] == receiver.url and "answered 500" in attempts[0]["error"]


def test_each_line_of_a_batch_may_name_a_callback(kafka, engine):
    with (
        receiving(Receiver(free_port())) as receiver,
        pipeline(kafka, engine, FixedScoreDetector(), webhooks=_settings(allow_private=True)) as p,
    ):
        lines = [{"text": f"{TEXT} Line {n}.", "callback_url": receiver.url} for n in range(3)]
        lines.append({"text": f"{TEXT} A line that asks for no callback."})
        body = "\n".join(json.dumps(line) for line in lines)
        answer = p.client.post("/v1/batches", content=body, headers=NDJSON).json()
        assert answer["accepted"] == 4, answer
        wait_until(lambda: len(receiver.received) >= 3, what="the three lines' verdicts")
        ids = {json.loads(body)["submission_id"] for _, body, _ in receiver.received}
        assert len(ids) == 3 and all(code == 204 for *_, code in receiver.received)


def test_one_receiver_gets_at_most_a_few_deliveries_at_once(kafka, engine):
    with (
        receiving(Receiver(free_port(), answer_after_s=0.3)) as receiver,
        pipeline(kafka, engine, FixedScoreDetector(), webhooks=_settings(allow_private=True)) as p,
    ):
        for n in range(24):
            p.client.post("/v1/texts", json={"text": f"{TEXT} Number {n}.", "callback_url": receiver.url})
        wait_until(lambda: len(receiver.received) >= 24, what="the 24 deliveries", timeout_s=60)
        assert receiver.most_in_flight <= PER_RECEIVER, receiver.most_in_flight


def test_a_receiver_down_for_a_while_gets_the_verdict_once_it_is_back(kafka, engine):
    receiver = Receiver(free_port())
    with pipeline(kafka, engine, FixedScoreDetector(), webhooks=_settings(allow_private=True)) as p:
        accepted = p.client.post("/v1/texts", json={"text": TEXT, "callback_url": receiver.url}).json()

        def failed_attempts() -> int:
            webhooks = p.client.get(accepted["href"]).json().get("webhooks")  # no key while not stored yet
            return len(webhooks[0]["attempts"]) if webhooks else 0

        wait_until(lambda: failed_attempts() >= 2, what="two attempts while the receiver is down")
        with receiving(receiver):
            wait_until(lambda: receiver.received, what="the delivery once the receiver is back")
            wait_until(lambda: p.client.get(accepted["href"]).json()["webhooks"][0]["state"] == "delivered")
        attempts = p.client.get(accepted["href"]).json()["webhooks"][0]["attempts"]
        assert attempts[0]["status_code"] is None and "Connect" in attempts[0]["error"]
        assert len(receiver.received) == 1


def test_a_private_address_is_refused_unless_allowed(kafka, engine):
    with (
        receiving(Receiver(free_port())) as receiver,
        pipeline(kafka, engine, FixedScoreDetector(), webhooks=_settings()) as p,
    ):
        accepted = p.client.post("/v1/texts", json={"text": TEXT, "callback_url": receiver.url}).json()
        webhook = wait_until(
            lambda: (w := p.client.get(accepted["href"]).json().get("webhooks")) and w[0]["state"] == "dead" and w[0]
        )
        assert "127.0.0.1, which is not a public address" in webhook["attempts"][0]["error"]
        assert len(webhook["attempts"]) == 1 and receiver.received == []


@pytest.mark.parametrize(
    "url", ["ftp://example.com/hook", "https://user:pw@example.com/hook", "https:///no-host", "http://a\x00b/"]
)
def test_a_bad_callback_url_is_a_422(kafka, engine, url):
    with pipeline(kafka, engine, detector=None, webhooks=_settings()) as p:
        answer = p.client.post("/v1/texts", json={"text": TEXT, "callback_url": url})
        assert answer.status_code == 422, answer.text


def test_without_webhooks_a_callback_is_a_422_and_there_is_no_secret(kafka, engine):
    with pipeline(kafka, engine, detector=None) as p:
        answer = p.client.post("/v1/texts", json={"text": TEXT, "callback_url": "https://example.com/hook"})
        assert answer.status_code == 422 and "webhooks are off" in answer.json()["detail"]
        assert p.client.get("/v1/webhooks/secret").status_code == 404
        line = {"text": TEXT, "callback_url": "https://example.com/hook"}
        answer = p.client.post("/v1/batches", content=json.dumps(line), headers=NDJSON).json()
        assert answer["accepted"] == 0 and "callback_url: webhooks are off" in answer["rejects"][0]["reason"]
