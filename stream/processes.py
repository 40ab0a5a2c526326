"""Child processes that cannot outlive the process that started them.

Used for the embedded broker and the `veritext up` supervisor's workers: if the parent dies
without cleaning up (even by SIGKILL), Linux sends the child SIGTERM, so no orphan keeps a port.
A child may start at a lower CPU priority (`niceness`); set before it runs anything, it holds for
every thread the child starts.
"""

import ctypes
import functools
import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from typing import IO

__all__ = ["start_child", "stop_child"]

_PR_SET_PDEATHSIG = 1


def _prepare_child(niceness: int) -> None:
    if sys.platform.startswith("linux"):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if niceness:
        os.nice(niceness)


def start_child(
    argv: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    output: IO[bytes] | int | None = None,
    niceness: int = 0,
) -> subprocess.Popen[bytes]:
    """Start `argv` in its own process group (Ctrl-C reaches the parent only, which stops it),
    `niceness` steps below the parent's CPU priority."""
    return subprocess.Popen(
        list(argv),
        env=env,
        stdout=output,
        stderr=subprocess.STDOUT if output is not None else None,
        preexec_fn=functools.partial(_prepare_child, niceness),
        start_new_session=True,
    )


def stop_child(process: subprocess.Popen[bytes], timeout_s: float = 10.0) -> int:
    """SIGTERM, wait up to `timeout_s`, then SIGKILL. Returns the exit code."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode
