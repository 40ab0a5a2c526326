"""`veritext up` on embedded defaults: it starts PostgreSQL and the broker itself, scores a text,
stops cleanly on SIGTERM (no process, socket or lock left behind), and a second start finds the
log it kept on disk. The scorer runs at a lower CPU priority than the gateway. The model is a double:
this test is about process mechanics."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import psutil

from stream.embedded_broker import free_port
from tests.helpers import wait_until

ROOT = Path(__file__).resolve().parents[1]


def _up(data_dir: Path, port: int, log: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VERITEXT_")}
    env |= {
        "VERITEXT_DATA_DIR": str(data_dir),
        "VERITEXT_GATEWAY_PORT": str(port),
        "VERITEXT_SCORER_DETECTOR": "tests.doubles:fixed",
        "VERITEXT_SCORER_METRICS_PORT": str(free_port()),  # not up's fixed defaults: runs may overlap
        "VERITEXT_SINK_METRICS_PORT": str(free_port()),
    }
    with open(log, "ab") as out:
        return subprocess.Popen([sys.executable, "-m", "veritext", "up"], cwd=ROOT, env=env, stdout=out, stderr=out)


def _ready(base: str) -> bool:
    try:
        return httpx.get(f"{base}/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _stop(up: subprocess.Popen, log: Path) -> None:
    children = psutil.Process(up.pid).children(recursive=True)
    up.send_signal(signal.SIGTERM)
    assert up.wait(60) == 0, log.read_text()
    _, alive = psutil.wait_procs(children, timeout=10)
    assert not alive, f"orphans left: {[p.info for p in alive]}"


def test_up_runs_the_pipeline_stops_cleanly_and_keeps_the_log(tmp_path):
    data_dir, log = tmp_path / "data", tmp_path / "up.log"
    port = free_port()
    base = f"http://127.0.0.1:{port}"

    up = _up(data_dir, port, log)
    try:
        wait_until(lambda: _ready(base) or up.poll() is not None, timeout_s=180, interval_s=0.5)
        assert up.poll() is None, log.read_text()
        answer = httpx.post(f"{base}/v1/texts?wait=30", json={"text": "Hello from the embedded pipeline."}, timeout=40)
        assert answer.status_code == 200, answer.text
        submission_id = answer.json()["submission_id"]
        wait_until(lambda: httpx.get(f"{base}/v1/texts/{submission_id}").json().get("status") == "scored")
        niceness = {p.cmdline()[-1]: p.nice() for p in psutil.Process(up.pid).children() if "veritext" in p.cmdline()}
        own = psutil.Process().nice()
        assert niceness == {"sink": own, "scorer": own + 10, "gateway": own}
    finally:
        _stop(up, log)
    assert not (data_dir / "postgres" / "postmaster.pid").exists(), "PostgreSQL stopped and left no lock"
    assert not _ready(base)

    up = _up(data_dir, port, log)
    try:
        wait_until(lambda: _ready(base) or up.poll() is not None, timeout_s=180, interval_s=0.5)
        view = httpx.get(f"{base}/v1/texts/{submission_id}").json()
        assert view["status"] == "scored", "the log survived the restart"
    finally:
        _stop(up, log)
    assert "gateway   http://127.0.0.1:" in log.read_text() and str(data_dir) in log.read_text()
