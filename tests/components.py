"""Run components as separate processes, as a deployment does (`veritext gateway|scorer|sink` on the
test's broker and database), and wait for them."""

import os
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx

from stream.settings import KafkaSettings

__all__ = ["answers", "component", "component_env"]

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
