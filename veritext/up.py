"""`veritext up`: the whole pipeline on one machine (docs/index.md, docs/operations.md).

It starts the embedded PostgreSQL and Kafka-compatible broker unless `VERITEXT_DATABASE_URL` /
`VERITEXT_KAFKA_BOOTSTRAP` name external ones, applies the migrations, creates the topics, and runs the
gateway (`VERITEXT_GATEWAY_WORKERS` processes on its one port), the scorer (one more per extra detector),
the sink and, with `VERITEXT_RABBITMQ_URL`, the bridge as supervised children (veritext/supervisor.py),
at lower CPU priority for the scorers. It serves on default ports or free ones where those are taken
(veritext/ports.py), holds its data directory against a second `up`, says when the scorer is ready (its
own /healthz answering with its pid), and leaves its addresses for every other command
(veritext/addresses.py). On the in-memory broker it re-enqueues what the log holds unscored whenever the
broker starts, and every minute what was recorded but never queued (docs/decisions/recorded-first.md); a
dead embedded service is started again, and after a broker restart every component too. SIGINT/SIGTERM
stop the children, then the services, in reverse order.
"""

import logging
import os
import re
import secrets
import shutil
import signal
import sys
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

import httpx
from rich.console import Console

from ingest.bridge.settings import BridgeSettings
from ingest.gateway.auth import check_auth_mode, check_shared_limits
from ingest.gateway.settings import AuthSettings, GatewaySettings
from schemas.errors import ServiceUnavailable
from schemas.secrets import plain, safe_url
from scorer.settings import ScorerSettings
from sink.settings import SinkSettings
from store.db import migrate
from store.settings import DatabaseSettings
from stream.admin import ensure_topics
from stream.embedded_broker import EmbeddedBroker
from stream.metrics import new_registry, serving_metrics
from stream.settings import KafkaSettings
from veritext.addresses import claim_data_dir, forget_addresses, write_addresses
from veritext.embedded_postgres import EmbeddedPostgres
from veritext.ports import choose_port
from veritext.requeue import STRAGGLER_CHECK_S, requeue_stragglers, requeue_unscored
from veritext.settings import UpSettings
from veritext.supervisor import Supervisor

__all__ = ["run_up"]

log = logging.getLogger(__name__)

COMPONENTS = ("sink", "scorer", "gateway")
METRICS_PORTS = {"scorer": 9101, "sink": 9102, "bridge": 9103}  # the components' own default is none


_Command = tuple[list[str], dict[str, str]]  # a child's command line and environment


def run_up(settings: UpSettings, console: Console) -> int:
    """Run until signalled; returns the exit code."""
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    database, kafka, gateway, bridge = DatabaseSettings(), KafkaSettings(), GatewaySettings(), BridgeSettings()
    scorer, sink, auth = ScorerSettings(), SinkSettings(), AuthSettings()
    check_shared_limits(auth, check_auth_mode(auth, gateway.host), gateway.workers)  # before anything starts
    data_dir = settings.data_dir.expanduser().resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    data_dir_lock = claim_data_dir(data_dir, settings.addresses_path)
    components = (*COMPONENTS, "bridge") if bridge.url else COMPONENTS
    gateway_port = choose_port(
        gateway.host, gateway.port, "VERITEXT_GATEWAY_PORT", chosen="port" in gateway.model_fields_set
    )
    metrics_ports = {
        name: choose_port(
            component.metrics_host,
            component.metrics_port if "metrics_port" in component.model_fields_set else METRICS_PORTS[name],
            variable,
            chosen="metrics_port" in component.model_fields_set,
        )
        for name, component, variable in (
            ("scorer", scorer, "VERITEXT_SCORER_METRICS_PORT"),
            ("sink", sink, "VERITEXT_SINK_METRICS_PORT"),
            ("bridge", bridge, "VERITEXT_RABBITMQ_METRICS_PORT"),
        )
        if name in components
    }
    up_metrics_port = choose_port(
        "127.0.0.1",
        settings.up_metrics_port,
        "VERITEXT_UP_METRICS_PORT",
        chosen="up_metrics_port" in settings.model_fields_set,
    )

    with ExitStack() as services:
        services.callback(data_dir_lock.release)
        postgres = broker = None
        if "url" in database.model_fields_set:
            database_url = plain(database.url)
        else:
            postgres = EmbeddedPostgres(data_dir)
            database_url = postgres.start()
            services.callback(postgres.stop)
        if "bootstrap" in kafka.model_fields_set:
            bootstrap = kafka.bootstrap
        else:
            broker = EmbeddedBroker(log_path=data_dir / "broker.log").start()
            services.callback(broker.stop)
            bootstrap = broker.bootstrap
        kafka = kafka.model_copy(update={"bootstrap": bootstrap, "volatile": kafka.volatile or broker is not None})
        migrate(database_url)
        ensure_topics(kafka)
        requeued = requeue_unscored(kafka, database_url) if kafka.volatile else 0

        env = {
            **os.environ,
            "VERITEXT_DATABASE_URL": database_url,
            "VERITEXT_KAFKA_BOOTSTRAP": bootstrap,
            "VERITEXT_KAFKA_VOLATILE": str(kafka.volatile).lower(),
            "VERITEXT_GATEWAY_PORT": str(gateway_port),
            "VERITEXT_SCORER_METRICS_PORT": str(metrics_ports["scorer"]),
            "VERITEXT_SINK_METRICS_PORT": str(metrics_ports["sink"]),
            "VERITEXT_RABBITMQ_METRICS_PORT": str(metrics_ports.get("bridge", 0)),
            "VERITEXT_WEBHOOKS_SECRET": webhook_secret(data_dir),
        }
        commands = {name: ([sys.executable, "-m", "veritext", name], env) for name in components}
        if gateway.workers > 1:
            commands.update(_gateway_processes(gateway.workers, env, data_dir / "gateway-metrics"))
        for spec in scorer.detectors[1:]:  # one more scorer per extra detector, in its own group
            group = "veritext-scorer-" + re.sub(r"[^A-Za-z0-9._-]", "-", spec)
            extra_env = {**env, "VERITEXT_SCORER_GROUP_ID": group, "VERITEXT_SCORER_METRICS_PORT": "0"}
            command = [sys.executable, "-m", "veritext", "scorer", "--detector", spec, "--only-named"]
            commands[f"scorer {spec}"] = (command, extra_env)
        registry = new_registry()
        metrics_port = services.enter_context(
            serving_metrics(registry, "127.0.0.1", up_metrics_port, "VERITEXT_UP_METRICS_PORT")
        )
        supervisor = Supervisor(registry, settings.state_path)
        services.callback(supervisor.stop_all)
        for name, (command, child_env) in commands.items():
            supervisor.add(name, command, child_env, settings.scorer_niceness if name.startswith("scorer") else 0)
        gateway_url = f"http://{gateway.host}:{gateway_port}"
        gateway_processes = f", {gateway.workers} processes" if gateway.workers > 1 else ""
        bridge_line = f"  bridge    queue {bridge.queue} at {safe_url(bridge.url)}\n" if bridge.url else ""
        bridge_metrics = f", bridge :{metrics_ports['bridge']}" if bridge.url else ""
        up_metrics = f", up :{metrics_port}" if metrics_port else ""
        console.print(
            f"[bold green]veritext is up[/]\n"
            f"  gateway   {gateway_url}  (docs at /docs, metrics at /metrics){gateway_processes}\n"
            f"  metrics   scorer :{metrics_ports['scorer']}, sink :{metrics_ports['sink']}"
            f"{bridge_metrics}{up_metrics}  (`veritext status` sums it all up)\n"
            f"{bridge_line}"
            f"  kafka     {bootstrap}{'  (in memory: submissions go to the database first)' if broker else ''}\n"
            f"  database  {safe_url(database_url)}\n"
            f"  data dir  {data_dir}\n"
            + (f"  re-enqueued {requeued} unscored submissions from the log\n" if requeued else "")
            + "  scorer    loading the model: submissions wait until it is ready (said below)\n"
            + "Every veritext command on this machine finds this pipeline. Ctrl-C stops everything."
        )
        write_addresses(
            settings.addresses_path,
            kafka_bootstrap=bootstrap,
            database_url=database_url,
            gateway_url=gateway_url,
        )
        services.callback(forget_addresses, settings.addresses_path)
        scorer_health = f"http://{scorer.metrics_host}:{metrics_ports['scorer']}/healthz"
        scorer_ready = metrics_ports["scorer"] == 0
        loading_since = time.monotonic()
        stragglers_checked = time.monotonic()
        while not stop.wait(0.5):
            if kafka.volatile and time.monotonic() - stragglers_checked > STRAGGLER_CHECK_S:
                requeue_stragglers(kafka, database_url, scorer.group_id, sink.group_id)
                stragglers_checked = time.monotonic()
            if not scorer_ready and _answers(scorer_health, supervisor.pid_of("scorer")):
                scorer_ready = True
                console.print(f"[green]scorer ready[/] (the model loaded in {time.monotonic() - loading_since:.0f} s)")
            if postgres is not None and not postgres.alive():
                _restart_service("embedded PostgreSQL", postgres.restart)
            if broker is not None and not broker.alive() and _restart_service("embedded broker", broker.start):
                ensure_topics(kafka)
                requeue_unscored(kafka, database_url)
                supervisor.restart_all("the embedded broker restarted with empty topics")
            supervisor.check()
        console.print("stopping veritext...")
    return 0


def _gateway_processes(workers: int, env: dict[str, str], metrics_dir: Path) -> dict[str, _Command]:
    """The commands of `workers` gateway processes sharing one port, and one folder for their metrics
    (emptied: the counts of an earlier run's processes are not this run's)."""
    shutil.rmtree(metrics_dir, ignore_errors=True)
    metrics_dir.mkdir(parents=True)
    shared_env = {**env, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
    command = [sys.executable, "-m", "veritext", "gateway", "--reuse-port"]
    return {"gateway" if n == 1 else f"gateway {n}": (command, shared_env) for n in range(1, workers + 1)}


def _answers(url: str, pid: int | None) -> bool:
    """Whether the process `pid` answers `url`'s health check (not whatever else holds the port)."""
    try:
        answer = httpx.get(url, timeout=0.3)
        return answer.status_code == 200 and pid is not None and answer.json().get("pid") == pid
    except (httpx.HTTPError, ValueError, AttributeError):
        return False


def _restart_service(name: str, start: Callable[[], object]) -> bool:
    """Start a dead embedded service again; False (and tried again on the next round) when it fails."""
    log.error("%s stopped; starting it again", name)
    try:
        start()
    except ServiceUnavailable as exc:
        log.error("%s did not start again: %s", name, exc)
        return False
    return True


def webhook_secret(data_dir: Path) -> str:
    """`VERITEXT_WEBHOOKS_SECRET` if set, else the one `up` made in the data directory the first time (kept
    there, readable by its owner only, so callbacks stay verifiable across restarts)."""
    if os.environ.get("VERITEXT_WEBHOOKS_SECRET"):
        return os.environ["VERITEXT_WEBHOOKS_SECRET"]
    path = data_dir / "webhooks.secret"
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(secrets.token_hex(32), encoding="utf-8")
    return path.read_text(encoding="utf-8").strip()
