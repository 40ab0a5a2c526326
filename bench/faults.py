"""Fault injection: does the pipeline keep "nothing accepted is ever lost" while things break?

It runs `veritext up` on embedded defaults (PostgreSQL and broker embedded, the RabbitMQ bridge on the
local RabbitMQ) with the model double `tests.doubles:fixed` (this measures the pipeline, not the model),
and two clients that submit without pause: an HTTP client (`POST /v1/texts`, each text with its own
`Idempotency-Key`, retried with the same key after a 503, a timeout or a refused connection, as the
docs/api.md tells clients to) and a RabbitMQ client (tasks on `ml_tasks` with publisher confirms, each with
its own id). Meanwhile it injects faults in turn: SIGKILL of the gateway, the scorer, the sink and the
bridge, SIGKILL of the embedded broker and of the embedded PostgreSQL (`up` starts them again), and a
RabbitMQ connection loss (`rabbitmqctl close_all_connections`). At the end it waits for the pipeline
to drain and counts, from the PostgreSQL log:

- accepted: texts the gateway answered 202 (or 200) and tasks RabbitMQ confirmed;
- lost: accepted but never stored with a score;
- duplicated: one key stored as two submissions, or one submission with two scores (one detector runs);
- unexpected 5xx: answers other than 503 (which tells the client to retry) and 504.

Writes bench/results/faults.json and faults.md. Run: `python bench/faults.py --faults 56`.
"""

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import aio_pika
import httpx
import psutil
import psycopg

from ingest.bridge.messages import SUBMISSION_NAMESPACE
from stream.embedded_broker import free_port

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
RABBITMQ = "amqp://guest:guest@127.0.0.1:5672/"
FAULTS = ("gateway", "scorer", "sink", "bridge", "broker", "postgres", "rabbitmq")


class HttpClient(threading.Thread):
    """Submits texts one after another; retries each with its key until it is accepted."""

    def __init__(self, base: str, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.base, self.stop = base, stop
        self.accepted: dict[str, str] = {}  # key -> submission id
        self.answers: Counter[int] = Counter()
        self.retries = 0

    def run(self) -> None:
        with httpx.Client(timeout=10) as client:
            while not self.stop.is_set():
                key = uuid.uuid4().hex
                body = {"text": f"Fault run text {key}: the pipeline must keep every acknowledged submission."}
                while not self.stop.is_set():
                    try:
                        answer = client.post(f"{self.base}/v1/texts", json=body, headers={"Idempotency-Key": key})
                    except httpx.HTTPError:
                        self.retries += 1
                        time.sleep(0.5)
                        continue
                    self.answers[answer.status_code] += 1
                    if answer.status_code in (200, 202):
                        self.accepted[key] = answer.json()["submission_id"]
                        break
                    self.retries += 1
                    time.sleep(min(float(answer.headers.get("retry-after", 1)), 1.0))


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


def _child(up: subprocess.Popen, name: str) -> psutil.Process | None:
    for process in psutil.Process(up.pid).children():
        try:
            cmdline = process.cmdline()
        except psutil.Error:  # exited meanwhile (a zombie until up reaps it)
            continue
        if (name == "broker" and cmdline[-4:-3] == ["--listener-url"]) or cmdline[-1:] == [name]:
            return process
    return None


def _inject(fault: str, up: subprocess.Popen, data_dir: Path) -> bool:
    if fault == "rabbitmq":
        return (
            subprocess.run(["rabbitmqctl", "close_all_connections", "fault injection"], capture_output=True).returncode
            == 0
        )
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faults", type=int, default=56)
    parser.add_argument("--every", type=float, default=5.0, help="seconds between faults")
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="veritext-faults-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    queue = f"faults-{uuid.uuid4().hex[:8]}.ml_tasks"
    env = {k: v for k, v in os.environ.items() if not k.startswith("VERITEXT_")} | {
        "VERITEXT_DATA_DIR": str(data_dir),
        "VERITEXT_GATEWAY_PORT": str(port),
        "VERITEXT_GATEWAY_RETRY_AFTER_S": "1",
        "VERITEXT_SCORER_DETECTOR": "tests.doubles:fixed",
        "VERITEXT_RABBITMQ_URL": RABBITMQ,
        "VERITEXT_RABBITMQ_QUEUE": queue,
        "VERITEXT_RABBITMQ_DEAD_LETTER_QUEUE": f"{queue}.dead-letter",
        "VERITEXT_RABBITMQ_RESULTS_EXCHANGE": f"{queue}.results",
        **{f"VERITEXT_{c}_METRICS_PORT": str(free_port()) for c in ("SCORER", "SINK", "RABBITMQ", "UP")},
    }
    log = open(data_dir / "up.log", "ab")  # noqa: SIM115
    up = subprocess.Popen([sys.executable, "-m", "veritext", "up"], cwd=ROOT, env=env, stdout=log, stderr=log)
    if not _wait(lambda: _ready(base), 180):
        print(f"veritext up did not become ready; see {data_dir / 'up.log'}")
        up.kill()
        return 1
    stop = threading.Event()
    http, rabbit = HttpClient(base, stop), RabbitClient(queue, stop)
    http.start()
    rabbit.start()
    injected: Counter[str] = Counter()
    started = time.monotonic()
    try:
        for n in range(args.faults):
            if up.poll() is not None:
                raise SystemExit(f"veritext up exited ({up.returncode}); see {data_dir / 'up.log'}")
            time.sleep(args.every)
            fault = FAULTS[n % len(FAULTS)]
            if _inject(fault, up, data_dir):
                injected[fault] += 1
            print(
                f"fault {n + 1}/{args.faults}: {fault}; accepted so far "
                f"{len(http.accepted)} http, {len(rabbit.accepted)} rabbitmq",
                flush=True,
            )
        time.sleep(args.every)
    except BaseException:
        up.kill()
        raise
    finally:
        stop.set()
        http.join(30)
        rabbit.join(30)
    faulted_s = time.monotonic() - started
    accepted = {**http.accepted, **rabbit.accepted}
    ids = list(accepted.values())
    url = _database_url(data_dir)
    _wait(lambda: not _missing(url, ids), 300)
    lost = _missing(url, ids)
    _wait(lambda: _ready(base), 60)
    with psycopg.connect(url) as conn:
        twice_scored = conn.execute(
            "SELECT count(*) FROM (SELECT submission_id FROM scores GROUP BY submission_id HAVING count(*) > 1) d"
        ).fetchone()[0]
        rows = conn.execute("SELECT text FROM submissions WHERE source IN ('http', 'rabbitmq')").fetchall()
        restarts = {
            c["name"]: c["restarts"] for c in json.loads((data_dir / "up-state.json").read_text())["components"]
        }
    keys = Counter(text.split(" ")[3].rstrip(":,") for (text,) in rows)
    duplicated = sum(1 for key in accepted if keys[key] > 1) + twice_scored
    up.send_signal(signal.SIGTERM)
    up.wait(120)
    unexpected = {code: n for code, n in http.answers.items() if code >= 500 and code not in (503, 504)}
    result = {
        "faults": dict(injected),
        "faults_total": sum(injected.values()),
        "seconds_under_faults": round(faulted_s, 1),
        "accepted_http": len(http.accepted),
        "accepted_rabbitmq": len(rabbit.accepted),
        "lost": len(lost),
        "duplicated": duplicated,
        "unexpected_5xx": sum(unexpected.values()),
        "answers": {str(k): v for k, v in sorted(http.answers.items())},
        "retries_http": http.retries,
        "retries_rabbitmq": rabbit.retries,
        "component_restarts": restarts,
        "model": "tests.doubles:fixed (the pipeline is measured, not the model)",
        "machine": f"{os.cpu_count()} CPUs",
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "faults.json").write_text(json.dumps(result, indent=2) + "\n")
    lines = [
        "# Fault injection (bench/faults.py)",
        "",
        f"{result['faults_total']} faults in {result['seconds_under_faults']} s on {result['machine']}, "
        "`veritext up` on embedded defaults with the RabbitMQ bridge; model double.",
        "",
        "| faults injected | accepted (http + rabbitmq) | lost | duplicated | unexpected 5xx | 503 answers (retried) |",
        "|---|---|---|---|---|---|",
        f"| {', '.join(f'{k} {v}' for k, v in injected.items())} | {len(http.accepted)} + {len(rabbit.accepted)} "
        f"| {result['lost']} | {duplicated} | {result['unexpected_5xx']} | {http.answers.get(503, 0)} |",
        "",
        f"Component restarts by `up`: {', '.join(f'{k} {v}' for k, v in restarts.items())}.",
    ]
    (RESULTS / "faults.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0 if not lost and not duplicated and not unexpected else 1


if __name__ == "__main__":
    sys.exit(main())
