"""`veritext up` on embedded defaults: it starts PostgreSQL and the broker itself, scores a text,
stops cleanly on SIGTERM (no process, socket or lock left behind), and a second start finds the
log it kept on disk; on a machine where other programs hold its ports it serves on free ones, and a
second `up` on the same data is refused. The scorer runs at a lower CPU priority than the gateway.
The model is a double: this test is about process mechanics."""

import json
import os
import re
import subprocess
import sys
import threading
from contextlib import ExitStack, contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import psutil

from stream.embedded_broker import free_port
from tests.helpers import wait_until
from tests.up import gateway_url, start_up, stop_up, up_is_ready


def test_up_runs_the_pipeline_stops_cleanly_and_keeps_the_log(tmp_path):
    data_dir, log = tmp_path / "data", tmp_path / "up.log"
    port = free_port()
    base = f"http://127.0.0.1:{port}"

    up = start_up(data_dir, port, log)
    try:
        answer = httpx.post(f"{base}/v1/texts?wait=30", json={"text": "Hello from the embedded pipeline."}, timeout=40)
        assert answer.status_code == 200, answer.text
        submission_id = answer.json()["submission_id"]
        wait_until(lambda: httpx.get(f"{base}/v1/texts/{submission_id}").json().get("status") == "scored")
        niceness = {p.cmdline()[-1]: p.nice() for p in psutil.Process(up.pid).children() if "veritext" in p.cmdline()}
        own = psutil.Process().nice()
        assert niceness == {"sink": own, "scorer": own + 10, "gateway": own}

        # a second terminal: no exports, the command finds the pipeline up is running
        env = {k: v for k, v in os.environ.items() if not k.startswith("VERITEXT_")}
        env["VERITEXT_DATA_DIR"] = str(data_dir)
        found = subprocess.run(
            [sys.executable, "-m", "veritext", "status", "--json"], env=env, capture_output=True, text=True, timeout=60
        )
        assert found.returncode == 0, found.stderr
        assert json.loads(found.stdout)["submissions_total"] >= 1
        wait_until(lambda: "scorer ready" in log.read_text(), what="up saying the scorer is ready")
    finally:
        stop_up(up, log)
    assert not (data_dir / "postgres" / "postmaster.pid").exists(), "PostgreSQL stopped and left no lock"
    assert not up_is_ready(base)
    assert not (data_dir / "up-addresses.json").exists(), "a stopped up leaves no addresses behind"

    up = start_up(data_dir, port, log)
    try:
        view = httpx.get(f"{base}/v1/texts/{submission_id}").json()
        assert view["status"] == "scored", "the log survived the restart"
    finally:
        stop_up(up, log)
    assert "gateway   http://127.0.0.1:" in log.read_text() and str(data_dir) in log.read_text()


def test_up_and_status_never_show_a_password(tmp_path, database_url):
    password = "hunter2-never-printed"
    secret_url = database_url.replace("postgres@", f"postgres:{password}@", 1)  # trust auth ignores it
    assert password in secret_url
    data_dir, log = tmp_path / "data", tmp_path / "up.log"
    port = free_port()
    up = start_up(data_dir, port, log, VERITEXT_DATABASE_URL=secret_url)
    try:
        answer = httpx.post(f"http://127.0.0.1:{port}/v1/texts?wait=30", json={"text": "Keep it secret."}, timeout=40)
        assert answer.status_code == 200, answer.text
        env = {k: v for k, v in os.environ.items() if not k.startswith("VERITEXT_")}
        # the broker from the addresses up left; the database from here: up does not write a password down
        env |= {"VERITEXT_DATABASE_URL": secret_url, "VERITEXT_DATA_DIR": str(data_dir)}
        status = subprocess.run(
            [sys.executable, "-m", "veritext", "status", "--json"], env=env, capture_output=True, text=True, timeout=60
        )
        assert status.returncode == 0, status.stderr
        assert password not in status.stdout + status.stderr and "***" in status.stdout
    finally:
        stop_up(up, log)
    printed = log.read_text()
    assert "database  postgresql+psycopg://postgres:***@127.0.0.1" in printed
    assert password not in printed, "the banner and every component's log hold no password"


def test_up_on_a_busy_machine_serves_on_free_ports_and_a_second_up_on_its_data_is_refused(tmp_path):
    """Another program holds every default port; the scorer's default answers health checks as if it
    were a scorer. `up` serves elsewhere, says where, and calls the scorer ready only when its own does."""
    data_dir, log = tmp_path / "data", tmp_path / "up.log"
    defaults = {"gateway": 8000, "up": 9100, "scorer": 9101, "sink": 9102}
    with ExitStack() as held:
        for port in defaults.values():
            held.enter_context(_impostor(port))
        up = start_up(data_dir, None, log)
        try:
            base = gateway_url(data_dir)
            assert base != "http://127.0.0.1:8000" and httpx.get(f"{base}/readyz").status_code == 200
            answer = httpx.post(f"{base}/v1/texts?wait=30", json={"text": "Scored on a busy machine."}, timeout=40)
            assert answer.status_code == 200, answer.text
            wait_until(lambda: "scorer ready" in log.read_text(), what="up saying the scorer is ready")
            banner = log.read_text()
            assert f"gateway   {base} " in banner
            ports = dict(re.findall(r"(scorer|sink|up) :(\d+)", banner))
            assert set(ports) == {"scorer", "sink", "up"}
            assert not {int(p) for p in ports.values()} & {*defaults.values()}
            health = httpx.get(f"{base}/health").text  # the web page's view of up's components
            assert health.count('<td class="state">running</td>') == 3 and ">True<" not in health, health
            children = {p.pid for p in psutil.Process(up.pid).children()}
            for name in ("scorer", "sink"):
                assert httpx.get(f"http://127.0.0.1:{ports[name]}/healthz").json()["pid"] in children, name

            again = subprocess.run(
                [sys.executable, "-m", "veritext", "up"],
                env={**_clean_env(), "VERITEXT_DATA_DIR": str(data_dir)},
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert again.returncode != 0
            running = f"already running on {data_dir.resolve()} (pid {up.pid}, gateway {base})"
            assert running in again.stdout + again.stderr
            assert "Traceback" not in again.stderr and "Warning" not in again.stderr, again.stderr
            assert up.poll() is None and up_is_ready(base), "the first up runs on"
        finally:
            stop_up(up, log)

    taken = free_port()
    with _impostor(taken):
        chosen = subprocess.run(
            [sys.executable, "-m", "veritext", "up"],
            env={**_clean_env(), "VERITEXT_DATA_DIR": str(data_dir), "VERITEXT_GATEWAY_PORT": str(taken)},
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert chosen.returncode != 0 and "change VERITEXT_GATEWAY_PORT" in chosen.stdout + chosen.stderr


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("VERITEXT_")}


@contextmanager
def _impostor(port: int):
    """A program on 127.0.0.1:`port` that answers every GET with 200 {"status": "ok"}; nothing when
    something else already holds the port (it is taken either way)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"status": "ok"}')

        def log_message(self, *args):
            pass

    try:
        server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    except OSError:
        yield
        return
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
