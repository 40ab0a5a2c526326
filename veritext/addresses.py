"""Where a running `veritext up` is: it leaves the broker, database and gateway addresses in its data
directory (`up-addresses.json`), and every other command on the machine starts from them, so
`veritext ingest`, `status`, `export`, `bot`... find the pipeline without exports. The environment
still wins: a variable that is set is never replaced. A database URL with a password is not written
(only the environment gives it), nor is a file of an `up` that is no longer running trusted.

One `up` per data directory: it holds a lock there (`up.lock`) while it runs, and a second `up` on the
same directory is refused with the first one's pid and gateway address."""

import json
import os
from pathlib import Path

from filelock import FileLock, Timeout

from schemas.errors import ConfigError
from schemas.secrets import safe_url

__all__ = ["claim_data_dir", "forget_addresses", "use_addresses", "write_addresses"]

_VARIABLES = {
    "kafka_bootstrap": "VERITEXT_KAFKA_BOOTSTRAP",
    "database_url": "VERITEXT_DATABASE_URL",
    "gateway_url": "VERITEXT_GATEWAY_URL",
}


def write_addresses(path: Path, *, kafka_bootstrap: str, database_url: str, gateway_url: str) -> None:
    found = {"pid": os.getpid(), "kafka_bootstrap": kafka_bootstrap, "gateway_url": gateway_url}
    if safe_url(database_url) == database_url:  # no password in it
        found["database_url"] = database_url
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(json.dumps(found, indent=1) + "\n", encoding="utf-8")
    partial.replace(path)


def claim_data_dir(data_dir: Path, addresses: Path) -> FileLock:
    """Lock `data_dir` for this `up` (released when the process ends, however it ends); ConfigError
    naming the running `up` when another holds it."""
    lock = FileLock(data_dir / "up.lock")
    try:
        lock.acquire(timeout=0)
    except Timeout:
        try:
            found = json.loads(addresses.read_text(encoding="utf-8"))
            running = f"pid {found['pid']}, gateway {found['gateway_url']}"
        except (OSError, ValueError, KeyError, TypeError):
            running = "still starting"
        raise ConfigError(
            f"veritext is already running on {data_dir} ({running}); use that one, stop it, "
            "or set VERITEXT_DATA_DIR to another directory to run a second pipeline"
        ) from None
    return lock


def forget_addresses(path: Path) -> None:
    path.unlink(missing_ok=True)


def use_addresses(path: Path) -> None:
    """Set each address a running `up` left as the default of this process's settings."""
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
        os.kill(int(found["pid"]), 0)  # still running?
    except (OSError, ValueError, KeyError, TypeError):
        return
    for field, variable in _VARIABLES.items():
        if isinstance(found.get(field), str):
            os.environ.setdefault(variable, found[field])
