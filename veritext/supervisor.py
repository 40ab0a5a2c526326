"""`veritext up`'s supervisor: keeps each component (gateway, scorers, sink, bridge) running as a child
process. A child that exits is logged, counted, and started again after a backoff that doubles with
each exit in a row (1 s up to 30 s) and resets once the child has stayed up for 15 s, so one bad
request or a database outage never stops the pipeline and a crash loop never spins the CPU, while a
child that ran and was killed (the OOM killer, an operator) is back within a second, however often.

State goes three ways: log lines, Prometheus metrics (`veritext_component_restarts_total`,
`veritext_component_running`, served by `up`), and a JSON state file in the data directory that
`veritext status` shows.

Why not supervisord or circus: either would be a second daemon with its own configuration language
between `up` and its children, and neither restarts the workers when the embedded broker comes back
with empty topics (their librdkafka clients then hold state the new broker does not know), which `up`
must do; what is left is this small loop.
"""

import json
import logging
import os
import subprocess
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Gauge

from stream.processes import start_child, stop_child

__all__ = ["ComponentState", "Supervisor", "read_state"]

log = logging.getLogger(__name__)

MIN_DELAY_S = 1.0
MAX_DELAY_S = 30.0
STABLE_S = 15.0  # up this long (past its start): the next exit is no crash loop, the backoff starts afresh


@dataclass
class _Child:
    name: str
    argv: list[str]
    env: dict[str, str]
    niceness: int
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0  # monotonic
    restarts: int = 0
    delay_s: float = MIN_DELAY_S
    restart_at: float = 0.0  # monotonic; when process is None
    last_exit: int | None = None
    since: str = field(default_factory=lambda: datetime.now(UTC).isoformat())


@dataclass(frozen=True)
class ComponentState:
    """One component as the state file records it."""

    name: str
    running: bool
    pid: int | None
    restarts: int
    last_exit: int | None
    since: str  # when it last started, or when it exited if it is waiting to restart


class Supervisor:
    def __init__(self, registry: CollectorRegistry, state_path: Path) -> None:
        self._children: dict[str, _Child] = {}
        self._state_path = state_path
        self._restarts = Counter(
            "veritext_component_restarts",
            "Components `up` started again after they exited",
            ["component"],
            registry=registry,
        )
        self._running = Gauge(
            "veritext_component_running", "1 while the component runs", ["component"], registry=registry
        )

    def add(self, name: str, argv: list[str], env: dict[str, str], niceness: int = 0) -> None:
        self._children[name] = _Child(name, argv, env, niceness)
        self._restarts.labels(name)
        self._start(self._children[name])

    def check(self) -> None:
        """Notice exits, start what is due, record the state. Call it every fraction of a second."""
        now = time.monotonic()
        for child in self._children.values():
            if child.process is not None:
                code = child.process.poll()
                if code is None:
                    if now - child.started_at > STABLE_S:
                        child.delay_s = MIN_DELAY_S
                    continue
                child.process, child.last_exit = None, code
                child.restart_at = now + child.delay_s
                child.since = datetime.now(UTC).isoformat()
                log.error("%s exited with code %s; starting it again in %.0f s", child.name, code, child.delay_s)
                child.delay_s = min(child.delay_s * 2, MAX_DELAY_S)
                self._running.labels(child.name).set(0)
                self._write_state()
            elif now >= child.restart_at:
                self._restart(child)

    def pid_of(self, name: str) -> int | None:
        """The pid of the child `name` while it runs."""
        process = self._children[name].process
        return process.pid if process is not None else None

    def restart_all(self, reason: str) -> None:
        """Stop every child and start it again at once (e.g. the broker they talk to restarted); a restart
        asked for is no crash: each backoff starts afresh."""
        log.warning("restarting every component: %s", reason)
        for child in self._children.values():
            if child.process is not None:
                stop_child(child.process)
                child.process = None
            child.delay_s = MIN_DELAY_S
            self._restart(child)

    def stop_all(self) -> None:
        for child in reversed(self._children.values()):
            if child.process is not None:
                stop_child(child.process)
                child.process = None
                self._running.labels(child.name).set(0)
        self._state_path.unlink(missing_ok=True)

    def _restart(self, child: _Child) -> None:
        child.restarts += 1
        self._restarts.labels(child.name).inc()
        self._start(child)

    def _start(self, child: _Child) -> None:
        child.process = start_child(child.argv, env=child.env, niceness=child.niceness)
        child.started_at = time.monotonic()
        child.since = datetime.now(UTC).isoformat()
        self._running.labels(child.name).set(1)
        if child.restarts:
            log.warning("started %s again (restart %d, pid %d)", child.name, child.restarts, child.process.pid)
        self._write_state()

    def _write_state(self) -> None:
        states = [
            asdict(
                ComponentState(
                    name=c.name,
                    running=c.process is not None,
                    pid=c.process.pid if c.process else None,
                    restarts=c.restarts,
                    last_exit=c.last_exit,
                    since=c.since,
                )
            )
            for c in self._children.values()
        ]
        partial = self._state_path.with_suffix(".tmp")
        partial.write_text(json.dumps({"pid": os.getpid(), "components": states}, indent=1))
        partial.replace(self._state_path)


def read_state(path: Path) -> list[ComponentState] | None:
    """The components of the `up` that wrote `path`; None when no `up` runs (no file, or its pid is gone)."""
    try:
        state = json.loads(path.read_text())
        os.kill(state["pid"], 0)
    except (OSError, ValueError, KeyError):
        return None
    return [ComponentState(**c) for c in state["components"]]
