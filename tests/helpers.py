"""Helpers for tests: bounded waits instead of sleeps, workers in threads, data from shared/."""

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

__all__ = ["LEGACY_RESULT", "SHARED_DATA", "read_texts", "running", "wait_until"]

# The original `/predict` result string, with the probability to three decimals.
LEGACY_RESULT = re.compile(
    r"^Processed text: (?P<text>.*), \*\*probability generated text = (?P<p>[01]\.\d{3})\*\*$", re.S
)
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def wait_until(predicate: Callable[[], Any], timeout_s: float = 30.0, interval_s: float = 0.1, what: str = "") -> Any:
    """Poll `predicate` until it returns something truthy; fail the test after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s}s waiting for {what or predicate}")
        time.sleep(interval_s)


class _Worker(Protocol):
    stop: threading.Event

    def run(self, stop_when_idle_s: float | None = None) -> int: ...


@contextmanager
def running(worker: _Worker) -> Iterator[_Worker]:
    """Run a worker loop in a thread for the duration of the block; re-raise its error."""
    errors: list[BaseException] = []

    def target() -> None:
        try:
            worker.run()
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    try:
        yield worker
    finally:
        worker.stop.set()
        thread.join(30)
    if errors:
        raise errors[0]


def read_texts(relative: str, label: str, n: int, min_chars: int = 200) -> list[str]:
    """The first `n` texts with `label` from a file under shared/data."""
    texts = []
    with open(SHARED_DATA / relative, encoding="utf-8") as f:
        for line in f:
            record = json.loads(line)
            if record["label"] == label and len(record["text"]) >= min_chars:
                texts.append(record["text"])
                if len(texts) == n:
                    break
    return texts
