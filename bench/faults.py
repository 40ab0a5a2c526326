"""Fault injection: does the pipeline keep "nothing accepted is ever lost" while things break?

It runs `veritext up` on embedded defaults (PostgreSQL and broker embedded, the RabbitMQ bridge on the
local RabbitMQ) with the model double `tests.doubles:fixed` (this measures the pipeline, not the model),
and two clients that submit without pause: an HTTP client (`POST /v1/texts`, each text with its own
`Idempotency-Key`, retried with the same key after a 503, a timeout or a refused connection, as the
docs/api.md tells clients to) and a RabbitMQ client (tasks on `ml_tasks` with publisher confirms, each with
its own id). Meanwhile it injects faults in turn: SIGKILL of the gateway, the scorer, the sink and the
bridge, SIGKILL of the embedded broker and of the embedded PostgreSQL (`up` starts them again), a
broker stall (SIGSTOP for 5-15 s, then SIGCONT) and a RabbitMQ connection loss (`rabbitmqctl
close_all_connections`), the webhook receiver down for 5-15 s, and the object store away for 5-15 s (the
documents folder replaced by a file). Every HTTP text names the harness's webhook receiver as its
`callback_url`, and a document client uploads a small document every half second. Beside them, all the
time: poison in every field at every intake (NUL and lone surrogates in the text, `external_id`, `lang`;
a poison line inside a batch; RabbitMQ tasks with a NUL in the id or the text), and pairs of concurrent
submits under one `Idempotency-Key` with different texts. After the faults, an overload phase offers
about 5x the gateway's capacity for 15 s. At the end it waits for the pipeline to drain and counts, from
the PostgreSQL log:

- accepted: texts the gateway answered 202 (or 200), batch lines it accepted, tasks RabbitMQ confirmed;
- lost: accepted but never stored with a score;
- duplicated: one key stored as two submissions, or one submission with two scores (one detector runs);
- wrong scores: a stored score that is not the double's score of the stored text;
- unexpected 5xx: answers other than 503 (which tells the client to retry) and 504; and poison answered
  with anything but a 4xx;
- webhooks undelivered: accepted HTTP texts whose verdict never reached the receiver (and how many
  reached it more than once: delivery is at least once);
- under overload: the fraction answered 503 and the latency of accepted requests (p50, p99).

Writes bench/results/faults.json and faults.md. Run: `python bench/faults.py --faults 56 [--gateways 2]`.
"""

import argparse
import asyncio
import functools
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import aio_pika
import httpx
import psutil
import psycopg
from raw_http import post, post_json

from ingest.bridge.messages import SUBMISSION_NAMESPACE
from stream.embedded_broker import free_port

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the model double, whose scores the wrong-score check recomputes
from tests.doubles import _probability  # noqa: E402

RESULTS = ROOT / "bench" / "results"
RABBITMQ = "amqp://guest:guest@127.0.0.1:5672/"
FAULTS = ("gateway", "scorer", "sink", "bridge", "broker", "stall", "postgres", "rabbitmq", "receiver", "objects")
PREFIX = "Fault run text"  # every text whose delivery is counted starts so, its key the next word


def _text(key: str, tail: str = "the pipeline must keep every acknowledged submission.") -> str:
    return f"{PREFIX} {key}: {tail}"


class HttpClient(threading.Thread):
    """Submits texts one after another; retries each with its key until it is accepted."""

    def __init__(self, base: str, stop: threading.Event, callback_url: str) -> None:
        super().__init__(daemon=True)
        self.base, self.stop, self.callback_url = base, stop, callback_url
        self.accepted: dict[str, str] = {}  # key -> submission id
        self.answers: Counter[int] = Counter()
        self.unexpected: list[str] = []  # the first few unexpected 5xx answers, to say why
        self.retries = 0

    def run(self) -> None:
        with httpx.Client(timeout=10) as client:
            while not self.stop.is_set():
                key = uuid.uuid4().hex
                body = {"text": _text(key), "callback_url": self.callback_url}
                while not self.stop.is_set():
                    try:
                        answer = client.post(f"{self.base}/v1/texts", json=body, headers={"Idempotency-Key": key})
                    except httpx.HTTPError:
                        self.retries += 1
                        time.sleep(0.5)
                        continue
                    self.answers[answer.status_code] += 1
                    _note_unexpected(answer, self.unexpected)
                    if answer.status_code in (200, 202):
                        self.accepted[key] = answer.json()["submission_id"]
                        break
                    self.retries += 1
                    time.sleep(min(float(answer.headers.get("retry-after", 1)), 1.0))


def _note_unexpected(answer: httpx.Response, notes: list[str]) -> None:
    if answer.status_code >= 500 and answer.status_code not in (503, 504) and len(notes) < 5:
        notes.append(f"{answer.status_code} {answer.text[:300]}")


class Receiver:
    """The webhook receiver on loopback: answers 204 and keeps the `Veritext-Webhook-Id` of every delivery;
    the `receiver` fault takes it down for 5-15 s (connections refused meanwhile)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/hooks"
        self.received: Counter[str] = Counter()
        self._server: ThreadingHTTPServer | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                received[self.headers["Veritext-Webhook-Id"]] += 1
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_: object) -> None:
                pass

        class Server(ThreadingHTTPServer):
            request_queue_size = 1024  # a receiver's usual backlog (uvicorn's 2048); the default 5 resets

        with self._lock:
            self._server = Server(("127.0.0.1", self.port), Handler)
            threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        with self._lock:
            if self._server is not None:
                self._server.shutdown()
                self._server.server_close()
                self._server = None

    def delivered(self, submission_ids: list[str]) -> set[str]:
        """Those of `submission_ids` whose verdict it received."""
        got = {delivery.split(":")[0] for delivery in list(self.received)}
        return {i for i in submission_ids if i in got}


class DocumentClient(threading.Thread):
    """Uploads a small document every half second (`POST /v1/documents`, its own Idempotency-Key, retried
    after a 503 as a client should): each one accepted must be kept and scored; the `objects` fault takes
    the object store (the folder under the data directory) away for 5-15 s."""

    def __init__(self, base: str, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.base, self.stop = base, stop
        self.accepted: dict[str, str] = {}
        self.answers: Counter[int] = Counter()
        self.unexpected: list[str] = []

    def run(self) -> None:
        with httpx.Client(timeout=10) as client:
            while not self.stop.wait(0.5):
                key = uuid.uuid4().hex
                files = {"file": ("notes.md", f"# Notes\n\n{_text(key)}\n".encode())}
                while not self.stop.is_set():
                    try:
                        answer = client.post(f"{self.base}/v1/documents", files=files, headers={"Idempotency-Key": key})
                    except httpx.HTTPError:
                        time.sleep(0.5)
                        continue
                    self.answers[answer.status_code] += 1
                    _note_unexpected(answer, self.unexpected)
                    if answer.status_code == 202:
                        self.accepted[key] = answer.json()["submission_id"]
                        break
                    time.sleep(0.5)


class RabbitClient(threading.Thread):
    """Publishes tasks with confirms; a task counts as accepted once RabbitMQ confirmed it."""

    def __init__(self, queue: str, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.queue, self.stop = queue, stop
        self.accepted: dict[str, str] = {}
        self.retries = 0

    def run(self) -> None:
        asyncio.run(self._publish())

    async def _publish(self) -> None:
        while not self.stop.is_set():
            try:
                async with await aio_pika.connect(RABBITMQ, timeout=5) as connection:
                    channel = await connection.channel()
                    await channel.declare_queue(self.queue, durable=True)
                    while not self.stop.is_set():
                        key = uuid.uuid4().hex
                        body = json.dumps({"id": key, "text": f"Fault run task {key}, sent over RabbitMQ."})
                        message = aio_pika.Message(body.encode(), delivery_mode=aio_pika.DeliveryMode.PERSISTENT)
                        await channel.default_exchange.publish(message, routing_key=self.queue, timeout=5)
                        self.accepted[key] = str(uuid.uuid5(SUBMISSION_NAMESPACE, f"id:{key}"))
                        await asyncio.sleep(0.2)
            except Exception:
                self.retries += 1
                await asyncio.sleep(0.5)


class PoisonClient(threading.Thread):
    """Sends poison to every intake in turn, with good texts beside it in the same batch: poison must get
    a 4xx (or a dead letter), the good lines must be stored and scored, nothing must stall."""

    HTTP = (  # (what, body, the answer it must get: a NUL in the text is removed, anywhere else refused)
        ("NUL in text", {"text": "poison\u0000 in the text, then enough words to be judged by the model"}, 202),
        ("NUL in external_id", {"text": "a good text with a bad id", "external_id": "a\u0000b"}, 422),
        ("NUL in lang", {"text": "a good text with a bad language", "lang": "e\u0000n"}, 422),
        ("lone surrogate in text", {"text": "lone \ud800 surrogate"}, 422),
        ("lone surrogate in external_id", {"text": "a good text", "external_id": "x\udfff"}, 422),
    )

    def __init__(self, base: str, queue: str, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.base, self.queue, self.stop = base, queue, stop
        self.answers: Counter[str] = Counter()  # "kind status"
        self.unexpected: Counter[str] = Counter()
        self.batch_keys: list[str] = []  # good lines of batches with a poison line, accepted

    def run(self) -> None:
        with httpx.Client(timeout=10) as client:
            while not self.stop.is_set():
                for kind, body, expected in self.HTTP:
                    self._send(client, kind, "/v1/texts", json.dumps(body), "application/json", expected)
                good = [uuid.uuid4().hex for _ in range(2)]
                lines = [json.dumps({"text": _text(good[0])}), '{"text": "bad", "external_id": "p\\u0000q"}']
                lines.append(json.dumps({"text": _text(good[1])}))
                batch = "\n".join(lines)
                if self._send(client, "batch with a poison line", "/v1/batches", batch, "application/x-ndjson", 202):
                    self.batch_keys += good
                asyncio.run(self._publish_poison())
                self.stop.wait(1.0)

    def _send(self, client: httpx.Client, kind: str, path: str, body: str, content_type: str, expected: int) -> bool:
        """True when a batch's two good lines were accepted."""
        try:
            answer = client.post(f"{self.base}{path}", content=body.encode(), headers={"content-type": content_type})
        except httpx.HTTPError:
            return False  # a fault in progress: the HTTP client counts those
        self.answers[f"{kind} {answer.status_code}"] += 1
        if answer.status_code not in (expected, 503):
            self.unexpected[f"{kind} {answer.status_code}"] += 1
        return answer.status_code == 202 and answer.json().get("accepted") == 2

    async def _publish_poison(self) -> None:
        try:
            async with await aio_pika.connect(RABBITMQ, timeout=5) as connection:
                channel = await connection.channel()
                for body in ('{"id": "p\\u0000N", "text": "poison in the id"}', '{"id": "ok", "text": "x\\u0000y"}'):
                    await channel.default_exchange.publish(aio_pika.Message(body.encode()), routing_key=self.queue)
                    self.answers["rabbitmq poison published"] += 1
        except Exception:
            pass  # a RabbitMQ fault in progress


class SameKeyClient(threading.Thread):
    """Every second, two concurrent submits under one Idempotency-Key with different texts: at most one
    text may be stored under the key, and its score must be its own."""

    def __init__(self, base: str, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.base, self.stop = base, stop
        self.accepted: dict[str, str] = {}
        self.answers: Counter[int] = Counter()
        self.unexpected: list[str] = []
        self.both_accepted = 0  # pairs in which both different texts were answered 202

    def run(self) -> None:
        with httpx.Client(timeout=10) as client, ThreadPoolExecutor(2) as pool:
            while not self.stop.wait(1.0):
                key = uuid.uuid4().hex
                bodies = [{"text": _text(key, f"version {side} of a text sent twice.")} for side in "AB"]
                answers = list(pool.map(functools.partial(self._post, client, key), bodies))
                accepted = [a for a in answers if a is not None and a.status_code in (200, 202)]
                for answer in answers:
                    if answer is not None:
                        self.answers[answer.status_code] += 1
                        _note_unexpected(answer, self.unexpected)
                if accepted:
                    self.accepted[key] = accepted[0].json()["submission_id"]
                self.both_accepted += len(accepted) == 2

    def _post(self, client: httpx.Client, key: str, body: dict) -> httpx.Response | None:
        try:
            return client.post(f"{self.base}/v1/texts", json=body, headers={"Idempotency-Key": key})
        except httpx.HTTPError:
            return None


async def _overload(port: int, seconds: float, clients: int) -> dict:
    """`clients` concurrent submitters without pause for `seconds`, each on a keep-alive connection of
    its own (raw_http.py: httpx would be the bottleneck): how many were accepted and how fast, how many
    were told 503 and how fast."""
    accepted: dict[str, str] = {}
    latency: dict[str, list[float]] = {"accepted": [], "503": [], "other": []}
    failures: Counter[str] = Counter()
    deadline = time.monotonic() + seconds

    async def submitter() -> None:
        connection: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        while time.monotonic() < deadline:
            key = uuid.uuid4().hex
            request = post_json(port, "/v1/texts", {"text": _text(key)}, {"Idempotency-Key": key})
            started = time.perf_counter()
            try:
                connection = connection or await asyncio.open_connection("127.0.0.1", port)
                status, body = await asyncio.wait_for(post(*connection, request), 30)
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError) as exc:
                latency["other"].append(time.perf_counter() - started)
                failures[type(exc).__name__] += 1
                if connection is not None:
                    connection[1].close()
                connection = None
                await asyncio.sleep(0.05)  # as after a 503: no hot loop against a closed port
                continue
            took = time.perf_counter() - started
            if status in (200, 202):
                accepted[key] = json.loads(body)["submission_id"]
                latency["accepted"].append(took)
            elif status == 503:
                latency["503"].append(took)
                await asyncio.sleep(0.05)
            else:
                latency["other"].append(took)
                failures[str(status)] += 1
        if connection is not None:
            connection[1].close()

    await asyncio.gather(*(submitter() for _ in range(clients)))
    answered = sum(len(v) for v in latency.values())

    def quantile(values: list[float], q: float) -> float | None:
        return round(sorted(values)[int(q * (len(values) - 1))] * 1000, 1) if values else None

    return {
        "accepted": accepted,
        "requests": answered,
        "fraction_503": round(len(latency["503"]) / answered, 3) if answered else None,
        "other_failures": len(latency["other"]),
        "other_failures_by_kind": dict(failures),
        "accepted_p50_ms": quantile(latency["accepted"], 0.5),
        "accepted_p99_ms": quantile(latency["accepted"], 0.99),
        "503_p99_ms": quantile(latency["503"], 0.99),
        "per_s": round(answered / seconds, 1),
    }


def _child(up: subprocess.Popen, name: str) -> psutil.Process | None:
    for process in psutil.Process(up.pid).children():
        try:
            cmdline = process.cmdline()
        except psutil.Error:  # exited meanwhile (a zombie until up reaps it)
            continue
        if (name == "broker" and cmdline[-4:-3] == ["--listener-url"]) or cmdline[2:4] == ["veritext", name]:
            return process  # a gateway: the first of them
    return None


_RECOVERIES: list[threading.Timer] = []  # the ends of the faults that last a while, joined before the overload


def _later(recover: Callable[[], object]) -> None:
    """End a fault that lasts a while 5-15 s from now."""
    timer = threading.Timer(random.uniform(5, 15), recover)
    timer.start()
    _RECOVERIES.append(timer)


def _inject(fault: str, up: subprocess.Popen, data_dir: Path, receiver: Receiver) -> bool:
    if fault == "receiver":
        receiver.stop()
        _later(receiver.start)
        return True
    if fault == "objects":  # the folder becomes a file: every write fails, as a store that is away
        folder, aside = data_dir / "documents", data_dir / "documents.away"
        if not folder.is_dir():
            return False
        folder.rename(aside)
        folder.write_bytes(b"")

        def back() -> None:
            folder.unlink()
            aside.rename(folder)

        _later(back)
        return True
    if fault == "rabbitmq":
        return (
            subprocess.run(["rabbitmqctl", "close_all_connections", "fault injection"], capture_output=True).returncode
            == 0
        )
    if fault == "stall":
        broker = _child(up, "broker")
        if broker is None:
            return False
        broker.send_signal(signal.SIGSTOP)
        _later(lambda: broker.send_signal(signal.SIGCONT))
        return True
    if fault == "postgres":
        pid_file = data_dir / "postgres" / "postmaster.pid"
        if not pid_file.exists():
            return False
        os.kill(int(pid_file.read_text().split()[0]), signal.SIGKILL)
        return True
    process = _child(up, fault)
    if process is None:
        return False
    process.send_signal(signal.SIGKILL)
    return True


def _ready(base: str) -> bool:
    try:
        return httpx.get(f"{base}/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _steady(base: str, seconds: float) -> bool:
    """The gateway answers ready for `seconds` in a row."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not _ready(base):
            return False
        time.sleep(1)
    return True


def _wait(predicate, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(1)
    return False


def _database_url(data_dir: Path) -> str:
    return f"postgresql://postgres@/veritext?host={data_dir / 'postgres'}"


def _missing(url: str, ids: list[str]) -> list[str]:
    """Those of `ids` with no score in the log (all of them while the database does not answer)."""
    try:
        with psycopg.connect(url, connect_timeout=5) as conn:
            scored = {
                str(r[0])
                for r in conn.execute(
                    "SELECT DISTINCT submission_id FROM scores WHERE submission_id = ANY(%s::uuid[])", (ids,)
                )
            }
    except psycopg.Error:
        return ids
    return [i for i in ids if i not in scored]


def _harness_texts(conn: psycopg.Connection) -> list[tuple[str, float | None]]:
    """Each stored text of the harness with its lowest score (None: not scored)."""
    return conn.execute(
        "SELECT s.text, min(c.probability) FROM submissions s LEFT JOIN scores c ON c.submission_id = s.id "
        "WHERE s.text LIKE 'Fault run %' GROUP BY s.id, s.text"
    ).fetchall()


def _scored(rows: list[tuple[str, float | None]]) -> set[str]:
    """The keys of the texts in `rows` that have a score."""
    return {_key_of(text) for text, probability in rows if probability is not None}


def _scored_keys(url: str) -> set[str]:
    """The keys of the harness's texts that have a score in the log (none while it does not answer)."""
    try:
        with psycopg.connect(url, connect_timeout=5) as conn:
            return _scored(_harness_texts(conn))
    except psycopg.Error:
        return set()


def _key_of(text: str) -> str:
    """The key a harness text carries (`_text`)."""
    return text.split(" ")[3].rstrip(":,")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faults", type=int, default=56)
    parser.add_argument("--every", type=float, default=5.0, help="seconds between faults")
    parser.add_argument("--overload-s", type=float, default=15.0, help="seconds of the overload phase")
    parser.add_argument("--overload-clients", type=int, default=400, help="concurrent submitters then")
    parser.add_argument("--max-in-flight", type=int, help="VERITEXT_GATEWAY_MAX_IN_FLIGHT (default: the setting's)")
    parser.add_argument("--gateways", type=int, default=2, help="VERITEXT_GATEWAY_WORKERS: gateway processes")
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="veritext-faults-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    queue = f"faults-{uuid.uuid4().hex[:8]}.ml_tasks"
    env = {k: v for k, v in os.environ.items() if not k.startswith("VERITEXT_")} | {
        "VERITEXT_DATA_DIR": str(data_dir),
        "VERITEXT_GATEWAY_PORT": str(port),
        "VERITEXT_GATEWAY_RETRY_AFTER_S": "1",
        "VERITEXT_GATEWAY_WORKERS": str(args.gateways),
        "VERITEXT_WEBHOOKS_SECRET": "fault-run",
        "VERITEXT_WEBHOOKS_ALLOW_PRIVATE": "true",  # the receiver is on loopback
        "VERITEXT_WEBHOOKS_BACKOFF_S": "0.5",
        "VERITEXT_SCORER_DETECTOR": "tests.doubles:fixed",
        "VERITEXT_RABBITMQ_URL": RABBITMQ,
        "VERITEXT_RABBITMQ_QUEUE": queue,
        "VERITEXT_RABBITMQ_DEAD_LETTER_QUEUE": f"{queue}.dead-letter",
        "VERITEXT_RABBITMQ_RESULTS_EXCHANGE": f"{queue}.results",
        **{f"VERITEXT_{c}_METRICS_PORT": str(free_port()) for c in ("SCORER", "SINK", "RABBITMQ", "UP")},
    }
    if args.max_in_flight:
        env["VERITEXT_GATEWAY_MAX_IN_FLIGHT"] = str(args.max_in_flight)
    log = open(data_dir / "up.log", "ab")  # noqa: SIM115
    up = subprocess.Popen([sys.executable, "-m", "veritext", "up"], cwd=ROOT, env=env, stdout=log, stderr=log)
    if not _wait(lambda: _ready(base), 180):
        print(f"veritext up did not become ready; see {data_dir / 'up.log'}")
        up.kill()
        return 1
    stop = threading.Event()
    receiver = Receiver()
    receiver.start()
    http, rabbit = HttpClient(base, stop, receiver.url), RabbitClient(queue, stop)
    poison, same_key = PoisonClient(base, queue, stop), SameKeyClient(base, stop)
    documents = DocumentClient(base, stop)
    clients = (http, rabbit, poison, same_key, documents)
    for client in clients:
        client.start()
    injected: Counter[str] = Counter()
    started = time.monotonic()
    try:
        for n in range(args.faults):
            if up.poll() is not None:
                raise SystemExit(f"veritext up exited ({up.returncode}); see {data_dir / 'up.log'}")
            time.sleep(args.every)
            fault = FAULTS[n % len(FAULTS)]
            if _inject(fault, up, data_dir, receiver):
                injected[fault] += 1
            print(
                f"fault {n + 1}/{args.faults}: {fault}; accepted so far "
                f"{len(http.accepted)} http, {len(rabbit.accepted)} rabbitmq",
                flush=True,
            )
        time.sleep(args.every)
        for recovery in _RECOVERIES:  # the overload meets a pipeline with every fault over
            recovery.join()
    except BaseException:
        up.kill()
        raise
    finally:
        stop.set()
        for client in clients:
            client.join(30)
    faulted_s = time.monotonic() - started
    _wait(lambda: _steady(base, 10), 180)  # a broker restart restarts every component: let it end
    print(f"overload: {args.overload_clients} concurrent submitters for {args.overload_s:.0f} s", flush=True)
    overload = asyncio.run(_overload(port, args.overload_s, args.overload_clients))
    accepted = {
        **http.accepted,
        **rabbit.accepted,
        **same_key.accepted,
        **documents.accepted,
        **overload.pop("accepted"),
    }
    ids = list(accepted.values())
    url = _database_url(data_dir)
    # a text recorded while the broker stalled is queued again from the log once it is 2 minutes old
    _wait(lambda: not _missing(url, ids) and set(poison.batch_keys) <= _scored_keys(url), 300)
    lost = _missing(url, ids)
    called_back = list(http.accepted.values())
    _wait(lambda: len(receiver.delivered(called_back)) == len(called_back), 300)
    undelivered = len(called_back) - len(receiver.delivered(called_back))
    receiver.stop()
    _wait(lambda: _ready(base), 60)
    with psycopg.connect(url) as conn:
        (twice_scored,) = conn.execute(
            "SELECT count(*) FROM (SELECT submission_id FROM scores GROUP BY submission_id HAVING count(*) > 1) d"
        ).fetchall()[0]
        rows = _harness_texts(conn)
        restarts = {
            c["name"]: c["restarts"] for c in json.loads((data_dir / "up-state.json").read_text())["components"]
        }
    keys = Counter(_key_of(text) for text, _ in rows)
    scored_keys = _scored(rows)
    lost += [key for key in poison.batch_keys if key not in scored_keys]
    duplicated = sum(1 for key in {*accepted, *poison.batch_keys} if keys[key] > 1) + twice_scored
    wrong = sum(1 for text, probability in rows if probability is not None and probability != _probability(text))
    up.send_signal(signal.SIGTERM)
    up.wait(120)
    unexpected = {
        code: n
        for code, n in (http.answers + same_key.answers + documents.answers).items()
        if code >= 500 and code not in (503, 504)
    }
    result = {
        "faults": dict(injected),
        "faults_total": sum(injected.values()),
        "seconds_under_faults": round(faulted_s, 1),
        "accepted_http": len(http.accepted),
        "accepted_rabbitmq": len(rabbit.accepted),
        "accepted_batch_lines_beside_poison": len(poison.batch_keys),
        "same_key_pairs_accepted": len(same_key.accepted),
        "same_key_pairs_both_accepted": same_key.both_accepted,
        "lost": len(lost),
        "duplicated": duplicated,
        "wrong_scores": wrong,
        "unexpected_5xx": sum(unexpected.values()),
        "unexpected_5xx_answers": http.unexpected + same_key.unexpected + documents.unexpected,
        "documents_accepted": len(documents.accepted),
        "document_answers": {str(k): v for k, v in sorted(documents.answers.items())},
        "webhooks_expected": len(called_back),
        "webhooks_undelivered": undelivered,
        "webhook_deliveries_repeated": sum(n - 1 for n in receiver.received.values()),
        "poison_answered_otherwise": dict(poison.unexpected),
        "poison_answers": dict(sorted(poison.answers.items())),
        "answers": {str(k): v for k, v in sorted(http.answers.items())},
        "overload": {"clients": args.overload_clients, "seconds": args.overload_s, **overload},
        "retries_http": http.retries,
        "retries_rabbitmq": rabbit.retries,
        "component_restarts": restarts,
        "model": "tests.doubles:fixed (the pipeline is measured, not the model)",
        "machine": f"{os.cpu_count()} CPUs",
        "gateway_processes": args.gateways,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "faults.json").write_text(json.dumps(result, indent=2) + "\n")
    lines = [
        "# Fault injection (bench/faults.py)",
        "",
        f"{result['faults_total']} faults in {result['seconds_under_faults']} s on {result['machine']}, "
        f"`veritext up` on embedded defaults with the RabbitMQ bridge and {args.gateways} gateway process(es) "
        "(a gateway fault kills one of them); model double.",
        "",
        "| faults injected | accepted (http + rabbitmq + batch lines beside poison + same-key pairs) | lost "
        "| duplicated | wrong scores | unexpected 5xx | poison not refused | 503 answers (retried) |",
        "|---|---|---|---|---|---|---|---|",
        f"| {', '.join(f'{k} {v}' for k, v in injected.items())} | {len(http.accepted)} + {len(rabbit.accepted)} "
        f"+ {len(poison.batch_keys)} + {len(same_key.accepted)} | {result['lost']} | {duplicated} | {wrong} "
        f"| {result['unexpected_5xx']} | {sum(poison.unexpected.values())} | {http.answers.get(503, 0)} |",
        "",
        f"Same-key pairs (two different texts at once under one `Idempotency-Key`): {len(same_key.accepted)}, "
        f"both answered 202 in {same_key.both_accepted}.",
        "",
        f"Documents uploaded and accepted: {len(documents.accepted)} (answers "
        f"{', '.join(f'{k}: {v}' for k, v in result['document_answers'].items())}), counted in lost above. "
        f"Webhooks: each accepted HTTP text named the receiver; {undelivered} of {len(called_back)} verdicts "
        f"never reached it, {result['webhook_deliveries_repeated']} were delivered more than once "
        "(at least once: receivers deduplicate on the id).",
        "",
        f"Overload ({args.overload_clients} concurrent submitters for {args.overload_s:.0f} s after the faults): "
        f"{overload['requests']} requests ({overload['per_s']}/s), {overload['fraction_503']:.1%} answered 503 "
        f"(p99 {overload['503_p99_ms']} ms); accepted p50 {overload['accepted_p50_ms']} ms, "
        f"p99 {overload['accepted_p99_ms']} ms; {overload['other_failures']} other failures"
        + (f" {overload['other_failures_by_kind']}." if overload["other_failures_by_kind"] else "."),
        "",
        f"Component restarts by `up`: {', '.join(f'{k} {v}' for k, v in restarts.items())}.",
    ]
    (RESULTS / "faults.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0 if not (lost or duplicated or wrong or unexpected or poison.unexpected or undelivered) else 1


if __name__ == "__main__":
    sys.exit(main())
