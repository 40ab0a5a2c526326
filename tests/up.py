"""Helpers for the tests of `veritext up` as a process: start it on a data directory with the model
double, wait until it is ready, stop it cleanly (no orphans), or cut its power (SIGKILL of every
process it started, the embedded PostgreSQL and broker included, all frozen first so none cleans up)."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import psutil

from stream.embedded_broker import free_port
from tests.helpers import wait_until

__all__ = ["cut_power", "gateway_url", "start_up", "stop_up", "up_is_ready"]

ROOT = Path(__file__).resolve().parents[1]


def start_up(data_dir: Path, port: int | None, log: Path, **env: str) -> subprocess.Popen:
    """`veritext up` with the fast double, fresh ports, and `env` (VERITEXT_* overrides) on top; with
    `port` None, every port is left to up's defaults (the gateway's is then in `gateway_url(data_dir)`)."""
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("VERITEXT_")}
    child_env |= {"VERITEXT_DATA_DIR": str(data_dir), "VERITEXT_SCORER_DETECTOR": "tests.doubles:fixed"}
    if port is not None:
        child_env |= {
            "VERITEXT_GATEWAY_PORT": str(port),
            "VERITEXT_SCORER_METRICS_PORT": str(free_port()),  # not up's defaults: runs may overlap
            "VERITEXT_SINK_METRICS_PORT": str(free_port()),
            "VERITEXT_UP_METRICS_PORT": str(free_port()),
        }
    child_env |= env
    with open(log, "ab") as out:
        up = subprocess.Popen([sys.executable, "-m", "veritext", "up"], cwd=ROOT, env=child_env, stdout=out, stderr=out)

    def ready() -> bool:
        if port is None and not (data_dir / "up-addresses.json").exists():
            return False
        return up_is_ready(f"http://127.0.0.1:{port}" if port is not None else gateway_url(data_dir))

    wait_until(lambda: ready() or up.poll() is not None, timeout_s=180, interval_s=0.5)
    assert up.poll() is None, log.read_text()
    return up


def gateway_url(data_dir: Path) -> str:
    """The gateway address the `up` on `data_dir` left for the other commands."""
    return json.loads((data_dir / "up-addresses.json").read_text())["gateway_url"]


def up_is_ready(base: str) -> bool:
    try:
        return httpx.get(f"{base}/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def stop_up(up: subprocess.Popen, log: Path) -> None:
    children = psutil.Process(up.pid).children(recursive=True)
    up.send_signal(signal.SIGTERM)
    assert up.wait(60) == 0, log.read_text()
    _, alive = psutil.wait_procs(children, timeout=10)
    assert not alive, f"orphans left: {[p.info for p in alive]}"


def cut_power(up: subprocess.Popen, data_dir: Path) -> None:
    """SIGKILL `up`, everything it started and the embedded PostgreSQL, with no chance to clean up."""
    processes = [psutil.Process(up.pid), *psutil.Process(up.pid).children(recursive=True)]
    postmaster = data_dir / "postgres" / "postmaster.pid"
    if postmaster.exists():
        server = psutil.Process(int(postmaster.read_text().split()[0]))
        processes += [server, *server.children(recursive=True)]
    for process in processes:
        process.send_signal(signal.SIGSTOP)
    for process in processes:
        process.send_signal(signal.SIGKILL)
    psutil.wait_procs(processes, timeout=10)
    up.wait(10)
