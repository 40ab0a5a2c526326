"""Access control on real gateway processes (`veritext gateway` with VERITEXT_AUTH=api-keys), real
PostgreSQL, a real broker and Redis for the shared rate-limit counters; keys made with `veritext keys`.
The model is the double: these tests are about who may do what."""

import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import redis

from ingest.legacy import legacy_result
from stream.embedded_broker import free_port
from stream.settings import KafkaSettings
from tests.cli import veritext
from tests.components import answers, component, component_env, pipeline_processes
from tests.doubles import _probability
from tests.helpers import unavailable, wait_until

LIMITS_STORE = "redis://127.0.0.1:6379/15"


@dataclass
class Deployment:
    kafka: KafkaSettings
    database_url: str
    gateways: list[str]  # base URLs

    def key(self, name: str | None = None, *options: str) -> tuple[str, str]:
        """(name, key) of a fresh key from `veritext keys create --json`."""
        name = name or f"k-{uuid.uuid4().hex[:8]}"
        made = veritext(self.kafka, self.database_url, "keys", "create", "--name", name, "--json", *options)
        assert made.returncode == 0, made.stderr
        created = json.loads(made.stdout)
        assert created["name"] == name and created["key"].startswith("vtk_")
        return name, created["key"]


@pytest.fixture
def redis_store() -> str:
    try:
        redis.Redis.from_url(LIMITS_STORE, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        unavailable(f"Redis at {LIMITS_STORE} ({exc})")
    return LIMITS_STORE


@contextmanager
def deployment(kafka, database_url, tmp_path: Path, gateways: int = 1, **env: str) -> Iterator[Deployment]:
    """`gateways` gateway processes with API keys (limits in Redis), one sink and one scorer (the double)."""
    auth = {"VERITEXT_AUTH": "api-keys", "VERITEXT_AUTH_LIMITS_STORAGE": LIMITS_STORE}
    with pipeline_processes(kafka, database_url, tmp_path, gateways, **auth, **env) as urls:
        yield Deployment(kafka, database_url, urls)


def _submit(base: str, key: str | None, text: str = "A text from a tenant.", **headers: str) -> httpx.Response:
    if key is not None:
        headers["X-API-Key"] = key
    return httpx.post(f"{base}/v1/texts", json={"text": text}, headers=headers, timeout=30)


def test_every_answer_of_the_access_table(kafka, database_url, tmp_path, redis_store):
    with deployment(kafka, database_url, tmp_path) as d:
        base = d.gateways[0]
        _, writer = d.key(None, "--scopes", "submit")
        _, reader = d.key(None, "--scopes", "read")

        for method, path in (("POST", "/v1/texts"), ("GET", f"/v1/texts/{uuid.uuid4()}"), ("GET", "/v1/detectors")):
            answer = httpx.request(method, f"{base}{path}", json={"text": "hello there"})
            assert answer.status_code == 401 and "no API key" in answer.json()["detail"], (path, answer.text)
        assert httpx.post(f"{base}/predict", json={"text": "hello there"}).status_code == 401

        forged = f"vtk_{writer[4:20]}_{'A' * 43}"  # a real id, a wrong secret
        for wrong in (forged, f"vtk_{'0' * 16}_{'B' * 43}", "not-a-key", writer + "x"):
            answer = _submit(base, wrong)
            assert answer.status_code == 401 and answer.headers["www-authenticate"] == "Bearer", (wrong, answer.text)

        assert _submit(base, writer).status_code == 202
        bearer = httpx.post(
            f"{base}/v1/texts", json={"text": "By bearer token."}, headers={"Authorization": f"Bearer {writer}"}
        )
        assert bearer.status_code == 202, bearer.text

        refused = _submit(base, reader)
        assert refused.status_code == 403 and "'submit' scope" in refused.json()["detail"]
        unreadable = httpx.get(f"{base}/v1/detectors", headers={"X-API-Key": writer})
        assert unreadable.status_code == 403 and "'read' scope" in unreadable.json()["detail"]
        assert httpx.get(f"{base}/v1/detectors", headers={"X-API-Key": reader}).status_code == 200

        name, limited = d.key(None, "--rate-limit", "3/minute")
        assert [_submit(base, limited).status_code for _ in range(3)] == [202] * 3
        over = _submit(base, limited)
        assert over.status_code == 429 and "rate limit of 3/minute" in over.json()["detail"], over.text
        assert 1 <= int(over.headers["retry-after"]) <= 60

        _, quota = d.key(None, "--quota", "2/day")
        assert [_submit(base, quota, f"Quota text {n}.").status_code for n in range(2)] == [202, 202]
        spent = _submit(base, quota)
        assert spent.status_code == 429 and "quota of 2 texts a day" in spent.json()["detail"], spent.text
        assert int(spent.headers["retry-after"]) > 3600

        _, batcher = d.key(None, "--quota", "3/day")
        lines = "\n".join(json.dumps({"text": f"Batch line {n}."}) for n in range(5))
        batch = httpx.post(
            f"{base}/v1/batches",
            content=lines,
            headers={"content-type": "application/x-ndjson", "X-API-Key": batcher},
        ).json()
        assert (batch["accepted"], batch["rejected"]) == (3, 2)
        assert {r["line"] for r in batch["rejects"]} == {4, 5} and "quota" in batch["rejects"][0]["reason"]

        revokee, revoked = d.key()
        assert _submit(base, revoked).status_code == 202
        assert veritext(d.kafka, d.database_url, "keys", "revoke", "--name", revokee).returncode == 0
        at = time.monotonic()
        wait_until(lambda: _submit(base, revoked).status_code == 401, timeout_s=5, interval_s=0.05)
        assert time.monotonic() - at < 1.0, "a revoked key is refused within a second"
        assert "revoked" in _submit(base, revoked).json()["detail"]

        listed = veritext(d.kafka, d.database_url, "keys", "list", "--json")
        rows = [json.loads(line) for line in listed.stdout.splitlines()]
        assert {r["name"] for r in rows} >= {name, revokee}
        assert revoked not in listed.stdout and writer not in listed.stdout and "sha256" not in listed.stdout
        assert next(r for r in rows if r["name"] == revokee)["revoked_at"] is not None

        gateway_log = (tmp_path / "gateway0.log").read_text()
        assert writer not in gateway_log and revoked not in gateway_log
        assert f'"key": "{name}"' in gateway_log  # the access log names the key, never the key itself
        metrics = httpx.get(f"{base}/metrics").text
        assert f'veritext_gateway_key_requests_total{{key="{name}",status="429"}} 1.0' in metrics


def test_a_tenant_reads_only_its_own_texts_batches_and_exports(kafka, database_url, tmp_path, redis_store):
    with deployment(kafka, database_url, tmp_path) as d:
        base = d.gateways[0]
        alice, alice_key = d.key("alice")
        _, bob_key = d.key("bob")
        _, admin_key = d.key("root", "--scopes", "admin")

        text = _submit(base, alice_key, "Alice wrote this one.", **{"Idempotency-Key": "same-key"})
        assert text.status_code == 202
        text_id = text.json()["submission_id"]
        bobs = _submit(base, bob_key, "Bob wrote another one.", **{"Idempotency-Key": "same-key"})
        assert bobs.json()["submission_id"] != text_id, "an Idempotency-Key is the tenant's own"
        batch = httpx.post(
            f"{base}/v1/batches",
            content=json.dumps({"text": "Alice's batch line."}),
            headers={"content-type": "application/x-ndjson", "X-API-Key": alice_key},
        )
        batch_id = batch.json()["batch_id"]

        def read(path: str, key: str) -> httpx.Response:
            return httpx.get(f"{base}{path}", headers={"X-API-Key": key})

        wait_until(lambda: read(f"/v1/texts/{text_id}", alice_key).json().get("status") == "scored")
        wait_until(lambda: read(f"/v1/batches/{batch_id}", alice_key).json().get("status") == "scored")
        for path in (f"/v1/texts/{text_id}", f"/v1/batches/{batch_id}"):
            assert read(path, alice_key).status_code == 200
            assert read(path, admin_key).status_code == 200
            hidden = read(path, bob_key)
            assert hidden.status_code == 404 and hidden.json()["detail"].startswith("no "), hidden.text

        wait_until(lambda: read(f"/v1/texts/{bobs.json()['submission_id']}", bob_key).json().get("status") == "scored")
        exported = tmp_path / "alice.jsonl"
        done = veritext(d.kafka, d.database_url, "export", "--output", str(exported), "--tenant", alice)
        assert done.returncode == 0, done.stderr
        rows = [json.loads(line) for line in exported.read_text().splitlines()]
        assert len(rows) == 2 and text_id in {r["submission_id"] for r in rows}, rows  # the text and the batch line
        assert {r["batch_id"] for r in rows} == {None, batch_id}
        everything = tmp_path / "all.jsonl"
        assert veritext(d.kafka, d.database_url, "export", "--output", str(everything)).returncode == 0
        assert len(everything.read_text().splitlines()) == 3


def test_two_gateways_share_one_keys_rate_limit_through_redis(kafka, database_url, tmp_path, redis_store):
    with deployment(kafka, database_url, tmp_path, gateways=2) as d:
        _, key = d.key(None, "--rate-limit", "4/minute")
        first, second = d.gateways
        codes = [_submit(url, key).status_code for url in (first, second, first, second)]
        assert codes == [202] * 4
        assert _submit(first, key).status_code == 429
        assert _submit(second, key).status_code == 429


def test_the_original_predict_contract_byte_for_byte_with_a_key_and_left_open(
    kafka, database_url, tmp_path, redis_store
):
    text = "Привет, это текст для проверки."
    expected = json.dumps(
        {"text": text, "result": legacy_result(text, _probability(text))}, ensure_ascii=False, separators=(",", ":")
    ).encode()
    with deployment(kafka, database_url, tmp_path, VERITEXT_AUTH_LEGACY_OPEN="true") as d:
        base = d.gateways[0]
        _, key = d.key()
        with_key = httpx.post(f"{base}/predict", json={"text": text}, headers={"X-API-Key": key}, timeout=40)
        assert with_key.status_code == 200 and with_key.content == expected
        open_ = httpx.post(f"{base}/predict", json={"text": text}, timeout=40)
        assert open_.status_code == 200 and open_.content == expected
        assert httpx.post(f"{base}/v1/texts", json={"text": text}).status_code == 401, "only the legacy routes are open"
    with deployment(kafka, database_url, tmp_path) as d:
        assert httpx.post(f"{d.gateways[0]}/predict", json={"text": text}, timeout=40).status_code == 401


def test_an_open_gateway_on_a_public_address_refuses_to_start(kafka, database_url, tmp_path):
    env = component_env(kafka, database_url, VERITEXT_GATEWAY_HOST="0.0.0.0", VERITEXT_GATEWAY_PORT=str(free_port()))
    refused = veritext(kafka, database_url, "gateway", env=env, timeout_s=60)
    assert refused.returncode == 1
    assert "not a loopback address" in refused.stderr and "VERITEXT_AUTH=api-keys" in refused.stderr
    assert "Traceback" not in refused.stderr

    port = free_port()
    env |= {"VERITEXT_AUTH": "none", "VERITEXT_GATEWAY_PORT": str(port)}
    with component("gateway", env, tmp_path / "gateway.log") as gateway:  # open on purpose: it starts
        wait_until(lambda: answers(f"http://127.0.0.1:{port}/readyz") or gateway.poll() is not None, timeout_s=60)
        assert gateway.poll() is None, (tmp_path / "gateway.log").read_text()
    assert "VERITEXT_AUTH=none on 0.0.0.0" in (tmp_path / "gateway.log").read_text()


def test_a_key_cannot_take_the_name_of_the_bridge_or_legacy_tenant(kafka, database_url):
    for name, whose in (("rabbitmq", "the RabbitMQ bridge"), ("legacy", "open legacy requests")):
        refused = veritext(kafka, database_url, "keys", "create", "--name", name)
        assert refused.returncode == 1 and f"the tenant of {whose}" in refused.stderr, refused.stderr
    renamed = {"VERITEXT_RABBITMQ_TENANT": "bridge-clients"}
    assert veritext(kafka, database_url, "keys", "create", "--name", "bridge-clients", env=renamed).returncode == 1
    assert veritext(kafka, database_url, "keys", "create", "--name", "rabbitmq", env=renamed).returncode == 0


class _Stream:
    """`GET /ui/scores` followed in a thread: the submission ids of its scores, and whether it ended."""

    def __init__(self, base: str, key: str) -> None:
        self.ids: list[str] = []
        self.ended = threading.Event()
        self._response = httpx.stream("GET", f"{base}/ui/scores", headers={"X-API-Key": key}, timeout=None)
        self.answer = self._response.__enter__()
        if self.answer.status_code == 200:
            threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        try:
            for line in self.answer.iter_lines():
                if line.startswith("data: {"):
                    self.ids.append(json.loads(line.removeprefix("data: "))["submission_id"])
        except httpx.HTTPError:
            pass
        self.ended.set()

    def close(self) -> None:
        self._response.__exit__(None, None, None)


def test_the_live_stream_shows_a_tenant_its_own_scores_ends_on_revocation_and_is_bounded(
    kafka, database_url, tmp_path, redis_store
):
    with deployment(kafka, database_url, tmp_path, VERITEXT_GATEWAY_MAX_STREAMS_PER_KEY="2") as d:
        base = d.gateways[0]
        mine, key = d.key()
        _, other = d.key()
        stream = _Stream(base, key)
        try:
            assert stream.answer.status_code == 200
            time.sleep(1)  # the stream listens
            theirs = [_submit(base, other, f"Their text number {n}.").json()["submission_id"] for n in range(5)]
            own = _submit(base, key, "My own text.").json()["submission_id"]
            wait_until(lambda: own in stream.ids, timeout_s=30, what="the tenant's own score on its stream")
            assert not set(theirs) & set(stream.ids), "another tenant's scores never reach the stream"

            second, third = _Stream(base, key), _Stream(base, key)
            assert second.answer.status_code == 200 and third.answer.status_code == 429, "two pages per key"
            assert "already has 2 pages" in third.answer.read().decode()
            for extra in (second, third):
                extra.close()

            revoked = veritext(d.kafka, d.database_url, "keys", "revoke", "--name", mine)
            assert revoked.returncode == 0, revoked.stderr
            assert stream.ended.wait(20), "a revoked key's stream ends within seconds"
        finally:
            stream.close()
