"""The gateway's intake under load: `veritext gateway` in processes of its own (one, or `--processes`
sharing the port as `VERITEXT_GATEWAY_WORKERS` runs them) on an embedded broker and a scratch database on
the local PostgreSQL, driven from another process by a light HTTP/1.1 client (raw_http.py: keep-alive
connections over raw asyncio streams, so the client is not what is measured):

- **closed loop**: `--connections` clients, each sending its next `POST /v1/texts` as soon as the last
  is answered, for `--seconds`: submissions accepted per second and their p50/p99 latency, recorded
  first (what `veritext up` does on its volatile broker: ingest/recorder.py) against the topic only,
  in alternating rounds so the machine's noise falls on all, and recorded first by `--processes`
  gateway processes on one port;
- **overload**: an open loop offering `--overload` times the recorded-first closed-loop rate (the
  issue's "5x capacity"), spread over `--overload-connections` keep-alive connections that each send on a
  fixed schedule whatever the answers: the share answered 503, how fast the 503s come (p99), and the
  accepted submissions per second with their p50/p99, recorded first, by one process and by
  `--processes`.

Writes bench/results/gateway.json and gateway.md.

    python bench/gateway_bench.py [--seconds 10] [--rounds 2] [--connections 16] [--overload 5]
                                  [--overload-connections 400] [--processes 2]
"""

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import psutil
from raw_http import post, post_json
from scratch import scratch_database

from stream.admin import ensure_topics
from stream.embedded_broker import EmbeddedBroker, free_port
from stream.settings import KafkaSettings

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"


async def _connection(
    port: int, name: int, deadline: float, answers: list[tuple[int, float]], interval: float = 0.0
) -> None:
    """Send on one keep-alive connection until `deadline`: the next request as soon as the last is
    answered (closed loop) or, with `interval`, on a fixed schedule (open loop: a late answer sends the
    next at once)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    sent = 0
    due = time.monotonic() + interval * (name % 97) / 97  # the connections' schedules interleave
    try:
        while time.monotonic() < deadline:
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            due += interval
            request = post_json(port, "/v1/texts", {"text": f"Gateway benchmark text {sent} of connection {name}."})
            started = time.perf_counter()
            status, _ = await post(reader, writer, request)
            answers.append((status, time.perf_counter() - started))
            sent += 1
    finally:
        writer.close()


def drive(port: int, connections: int, seconds: float, rate: float = 0.0) -> list[tuple[int, float]]:
    """(status, seconds) of every answer `connections` clients got in `seconds`: closed loop, or
    offering `rate` requests per second in all."""
    interval = connections / rate if rate else 0.0

    async def run() -> list[tuple[int, float]]:
        answers: list[tuple[int, float]] = []
        deadline = time.monotonic() + seconds
        await asyncio.gather(*(_connection(port, c, deadline, answers, interval) for c in range(connections)))
        return answers

    return asyncio.run(run())


def _summary(answers: list[tuple[int, float]], seconds: float) -> dict[str, float]:
    accepted = np.array([t for status, t in answers if status == 202]) * 1000
    refused = np.array([t for status, t in answers if status == 503]) * 1000
    other = sum(status not in (202, 503) for status, _ in answers)
    return {
        "answers": len(answers),
        "accepted_per_s": len(accepted) / seconds,
        "accepted_p50_ms": float(np.percentile(accepted, 50)) if len(accepted) else float("nan"),
        "accepted_p99_ms": float(np.percentile(accepted, 99)) if len(accepted) else float("nan"),
        "refused_share": len(refused) / len(answers) if answers else 0.0,
        "refused_p99_ms": float(np.percentile(refused, 99)) if len(refused) else float("nan"),
        "other_answers": other,
    }


class Gateway:
    """`veritext gateway` in `processes` processes of its own on one port, recording first or not."""

    def __init__(self, kafka: KafkaSettings, database_url: str, recorded: bool, processes: int = 1) -> None:
        self.port = free_port()
        self._metrics = tempfile.TemporaryDirectory(prefix="gwbench-metrics-")
        env = {k: v for k, v in os.environ.items() if not k.startswith("VERITEXT_")} | {
            "VERITEXT_KAFKA_BOOTSTRAP": kafka.bootstrap,
            "VERITEXT_KAFKA_TOPIC_PREFIX": kafka.topic_prefix,
            "VERITEXT_KAFKA_VOLATILE": str(recorded).lower(),
            "VERITEXT_DATABASE_URL": database_url,
            "VERITEXT_GATEWAY_MAX_BACKLOG": "0",  # no scorer runs here: its lag is not what is measured
            "VERITEXT_LOG_LEVEL": "WARNING",
        }
        command = [sys.executable, "-m", "veritext", "gateway", "--port", str(self.port)]
        if processes > 1:
            command.append("--reuse-port")
            env["PROMETHEUS_MULTIPROC_DIR"] = self._metrics.name
        self._processes = [
            subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL) for _ in range(processes)
        ]
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self._all_listening() and self._ready():
                return
            time.sleep(0.2)
        self.close()
        raise RuntimeError("the gateway did not become ready")

    def _all_listening(self) -> bool:
        """Whether every process listens on the port (it does once its startup is done)."""
        return all(
            any(c.status == psutil.CONN_LISTEN and c.laddr.port == self.port for c in connections)
            for connections in (psutil.Process(p.pid).net_connections() for p in self._processes)
        )

    def _ready(self) -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{self.port}/readyz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def close(self) -> None:
        for process in self._processes:
            process.terminate()
        for process in self._processes:
            process.wait(30)
        self._metrics.cleanup()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--overload", type=float, default=5.0, help="times the recorded-first rate offered")
    parser.add_argument("--overload-connections", type=int, default=400)
    parser.add_argument("--processes", type=int, default=2, help="gateway processes on one port, besides one")
    args = parser.parse_args()

    several = f"recorded first, {args.processes} processes"
    modes = {"topic only": (False, 1), "recorded first": (True, 1), several: (True, args.processes)}
    closed: dict[str, list[dict[str, float]]] = {mode: [] for mode in modes}
    overload: dict[str, dict[str, float]] = {}
    with (
        scratch_database("veritext_gateway") as database_url,
        EmbeddedBroker() as broker,
        ProcessPoolExecutor(1) as client,
    ):
        kafka = KafkaSettings(bootstrap=broker.bootstrap, topic_prefix="gwbench.")
        ensure_topics(kafka)

        def measure(recorded: bool, processes: int, connections: int, rate: float = 0.0) -> dict[str, float]:
            gateway = Gateway(kafka, database_url, recorded, processes)
            try:
                client.submit(drive, gateway.port, 4, 2.0).result()  # warm up
                answers = client.submit(drive, gateway.port, connections, args.seconds, rate).result()
            finally:
                gateway.close()
            return _summary(answers, args.seconds)

        for _ in range(args.rounds):
            for mode, (recorded, processes) in modes.items():
                closed[mode].append(measure(recorded, processes, args.connections))
        offered = args.overload * float(np.median([r["accepted_per_s"] for r in closed["recorded first"]]))
        for mode in ("recorded first", several):
            overload[mode] = measure(True, modes[mode][1], args.overload_connections, offered)

    def median(mode: str, key: str) -> float:
        return float(np.median([r[key] for r in closed[mode]]))

    rate_ratio = median("recorded first", "accepted_per_s") / median("topic only", "accepted_per_s")
    p50_ratio = median("recorded first", "accepted_p50_ms") / median("topic only", "accepted_p50_ms")
    processes_ratio = median(several, "accepted_per_s") / median("recorded first", "accepted_per_s")
    result = {
        "cpus": os.cpu_count(),
        "seconds": args.seconds,
        "rounds": args.rounds,
        "connections": args.connections,
        "processes": args.processes,
        "closed_loop": closed,
        "recorded_over_topic_only": {"rate": rate_ratio, "p50": p50_ratio},
        "processes_over_one": {"rate": processes_ratio},
        "overload_connections": args.overload_connections,
        "overload_offered_per_s": offered,
        "overload": overload,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "gateway.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    lines = [
        "# Gateway intake under load (bench/gateway_bench.py)\n",
        f"`veritext gateway` (one process, or {args.processes} on one port) on {os.cpu_count()} CPUs, embedded "
        "broker, local PostgreSQL; a raw HTTP/1.1 client in another process. "
        f"{args.rounds} alternating rounds of {args.seconds:g} s.\n",
        f"| closed loop, {args.connections} connections | accepted/s | p50 ms | p99 ms | 503 share |",
        "|---|---|---|---|---|",
    ]
    for mode in modes:
        cells = [median(mode, k) for k in ("accepted_per_s", "accepted_p50_ms", "accepted_p99_ms", "refused_share")]
        lines.append(f"| {mode} | {cells[0]:.0f} | {cells[1]:.1f} | {cells[2]:.1f} | {cells[3]:.1%} |")
    lines += [
        f"\nRecorded first / topic only: rate x{rate_ratio:.2f}, p50 x{p50_ratio:.2f}. "
        f"{args.processes} processes / one, recorded first: rate x{processes_ratio:.2f}.\n",
        f"| overload, recorded first, {offered:.0f}/s offered (x{args.overload:g}) for {args.seconds:g} s over "
        f"{args.overload_connections} connections | answered/s | accepted/s | accepted p50 ms | accepted p99 ms | "
        "503 share | 503 p99 ms | other answers |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for mode, row in overload.items():
        lines.append(
            f"| {mode} | {row['answers'] / args.seconds:.0f} | {row['accepted_per_s']:.0f} | "
            f"{row['accepted_p50_ms']:.1f} | {row['accepted_p99_ms']:.1f} | {row['refused_share']:.1%} | "
            f"{row['refused_p99_ms']:.1f} | {row['other_answers']} |"
        )
    (RESULTS / "gateway.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
