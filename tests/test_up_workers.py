"""Several gateway processes under `veritext up` (`VERITEXT_GATEWAY_WORKERS`): they serve one port, a
text sent to any of them is scored, `/metrics` answers the sums over all of them, one killed leaves the
others serving while the supervisor starts it again; with API keys they are refused unless the rate
limits are counted in a shared store. The model is a double: this test is about process mechanics."""

import os
import re
import signal
import subprocess
import sys

import httpx
import psutil

from ingest.gateway.auth import check_shared_limits
from ingest.gateway.settings import AuthSettings
from stream.embedded_broker import free_port
from tests.helpers import wait_until
from tests.up import ROOT, start_up, stop_up


def _gateways(up: subprocess.Popen) -> list[psutil.Process]:
    found = []
    for process in psutil.Process(up.pid).children():
        try:
            if process.cmdline()[-2:] == ["gateway", "--reuse-port"]:
                found.append(process)
        except psutil.Error:  # exited meanwhile (a zombie until up reaps it)
            continue
    return found


def _listening(gateways: list[psutil.Process], port: int) -> bool:
    try:
        return all(
            any(c.status == psutil.CONN_LISTEN and c.laddr.port == port for c in g.net_connections()) for g in gateways
        )
    except psutil.Error:  # one exited meanwhile
        return False


def _accepted_total(base: str) -> float:
    exposition = httpx.get(f"{base}/metrics", timeout=10).text
    pattern = r'veritext_gateway_requests_total\{[^}]*method="POST",route="/v1/texts",status="202"\} (\S+)'
    return sum(float(value) for value in re.findall(pattern, exposition))


def _submit(base: str, n: int) -> list[str]:
    ids = []
    for i in range(n):
        with httpx.Client() as client:  # a new connection each time: the kernel spreads them over the processes
            answer = client.post(f"{base}/v1/texts", json={"text": f"Text number {i} sent to several gateways."})
        assert answer.status_code == 202, answer.text
        ids.append(answer.json()["submission_id"])
    return ids


def test_several_gateway_processes_share_the_port_and_survive_a_kill(tmp_path, database_url):
    data_dir, log = tmp_path / "data", tmp_path / "up.log"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    up = start_up(data_dir, port, log, VERITEXT_GATEWAY_WORKERS="3", VERITEXT_DATABASE_URL=database_url)
    try:
        assert ", 3 processes" in log.read_text()
        gateways = _gateways(up)
        assert len(gateways) == 3
        wait_until(lambda: _listening(gateways, port), what="every gateway process listening")
        ids = _submit(base, 30)
        answered_by = set(re.findall(r'"process": (\d+), "message": "POST /v1/texts 202', log.read_text()))
        assert answered_by <= {str(g.pid) for g in gateways} and len(answered_by) >= 2, answered_by
        wait_until(lambda: _accepted_total(base) == 30, what="every process's 202s summed in /metrics")

        gateways[0].send_signal(signal.SIGKILL)
        gateways[0].wait(10)
        ids += _submit(base, 30)  # the other two answer meanwhile
        wait_until(
            lambda: len(_gateways(up)) == 3 and _listening(_gateways(up), port),
            timeout_s=60,
            what="the killed gateway started again",
        )
        ids += _submit(base, 30)
        assert _accepted_total(base) == 90, "the killed process's counts are kept in the sums"

        def all_scored() -> bool:
            return all(httpx.get(f"{base}/v1/texts/{i}").json().get("status") == "scored" for i in ids)

        wait_until(all_scored, timeout_s=60, what="every text scored")
    finally:
        stop_up(up, log)


def test_several_gateway_processes_with_api_keys_need_shared_rate_limits(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("VERITEXT_")}
    env |= {
        "VERITEXT_DATA_DIR": str(tmp_path / "data"),
        "VERITEXT_AUTH": "api-keys",
        "VERITEXT_GATEWAY_WORKERS": "2",
    }
    up = subprocess.run(
        [sys.executable, "-m", "veritext", "up"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert up.returncode == 1
    assert "VERITEXT_AUTH_LIMITS_STORAGE" in up.stderr and "Traceback" not in up.stdout + up.stderr
    assert not (tmp_path / "data").exists(), "refused before anything was started"

    shared = AuthSettings(mode="api-keys", limits_storage="redis://127.0.0.1:6379/0")
    check_shared_limits(shared, "api-keys", processes=4)  # a shared store: allowed
    check_shared_limits(AuthSettings(mode="api-keys"), "api-keys", processes=1)  # one process: its memory is enough
