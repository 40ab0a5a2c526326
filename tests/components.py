"""Run components as separate processes, as a deployment does (`veritext gateway|scorer|sink` on the
test's broker and database), and wait for them."""

import os
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx

from stream.embedded_broker import free_port
from stream.settings import KafkaSettings
from tests.helpers import wait_until

__all__ = ["answers", "component", "component_env", "pipeline_processes"]

ROOT = Path(__file__).resolve().parents[1]


def component_env(kafka: KafkaSettings, database_url: str, **overrides: str) -> dict[str, str]:
    """The environment of a component on the test's broker, topic prefix, groups and database, with the
    model double; `overrides` (VERITEXT_* names) on top. Nothing of the caller's VERITEXT_* leaks in."""
    return {k: v for k, v in os.environ.items() if not k.startswith("VERITEXT_")} | {
        "VERITEXT_KAFKA_BOOTSTRAP": kafka.bootstrap,
        "VERITEXT_KAFKA_TOPIC_PREFIX": kafka.topic_prefix,
        "VERITEXT_KAFKA_PARTITIONS": str(kafka.partitions),
        "VERITEXT_DATABASE_URL": database_url,
        "VERITEXT_SCORER_DETECTOR": "tests.doubles:fixed",
        "VERITEXT_SCORER_GROUP_ID": f"{kafka.topic_prefix}-scorer",
        "VERITEXT_SINK_GROUP_ID": f"{kafka.topic_prefix}-sink",
        **overrides,
    }


@contextmanager
def component(name: str, env: Mapping[str, str], log: Path, *args: str) -> Iterator[subprocess.Popen]:
    """`python -m veritext NAME ARGS`, its output in `log`; stopped with SIGTERM (then SIGKILL) at the end."""
    with open(log, "ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "veritext", name, *args], cwd=ROOT, env=dict(env), stdout=out, stderr=out
        )
    try:
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def answers(url: str) -> bool:
    """The URL answers 200."""
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@contextmanager
def pipeline_processes(
    kafka: KafkaSettings, database_url: str, logs: Path, gateways: int = 1, **env: str
) -> Iterator[list[str]]:
    """`gateways` gateway processes, one sink and one scorer (the model double unless `env` names
    another), all ready; yields the gateways' base URLs. Each process logs to `logs`/NAME.log."""
    ports = [free_port() for _ in range(gateways)]
    base_env = component_env(kafka, database_url, **env)
    with ExitStack() as stack:
        processes = {
            f"gateway{n}": stack.enter_context(
                component("gateway", base_env | {"VERITEXT_GATEWAY_PORT": str(port)}, logs / f"gateway{n}.log")
            )
            for n, port in enumerate(ports)
        }
        for name in ("sink", "scorer"):
            processes[name] = stack.enter_context(component(name, base_env, logs / f"{name}.log"))
        urls = [f"http://127.0.0.1:{port}" for port in ports]

        def ready() -> bool:
            dead = [n for n, p in processes.items() if p.poll() is not None]
            assert not dead, f"{dead} exited: " + " ".join((logs / f"{n}.log").read_text()[-2000:] for n in dead)
            return all(answers(f"{url}/readyz") for url in urls)

        wait_until(ready, timeout_s=90, interval_s=0.5, what="the gateways ready")
        yield urls
