"""Helpers for tests: bounded waits instead of sleeps, workers in threads, data from shared/."""

import json
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

import pytest

from lab.settings import LabSettings

__all__ = ["LEGACY_RESULT", "labelled_data", "read_texts", "running", "unavailable", "wait_until"]

# The original `/predict` result string, with the probability to three decimals.
LEGACY_RESULT = re.compile(
    r"^Processed text: (?P<text>.*), \*\*probability generated text = (?P<p>[01]\.\d{3})\*\*$", re.S
)
ROOT = Path(__file__).resolve().parents[1]


def unavailable(what: str) -> None:
    """Skip (or, under CI, fail) a test whose service or data is missing."""
    message = f"{what} is not available"
    if os.environ.get("CI", "").lower() in ("true", "1"):
        pytest.fail(f"{message} (CI=true: a missing service fails the run)", pytrace=False)
    pytest.skip(message)


def labelled_data() -> Path:
    """The labelled texts (VERITEXT_LABELLED_DATA, default ../shared/data beside the repository); a
    test that needs them is skipped without them, and fails under CI."""
    found = ROOT / LabSettings().labelled_data  # an absolute setting stays as it is
    if not (found / "en").is_dir():
        unavailable(f"the labelled data at {found} (set VERITEXT_LABELLED_DATA to the folder that holds en/ and ru/)")
    return found


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
    """The first `n` texts with `label` from a file of the labelled data."""
    texts = []
    with open(labelled_data() / relative, encoding="utf-8") as f:
        for line in f:
            record = json.loads(line)
            if record["label"] == label and len(record["text"]) >= min_chars:
                texts.append(record["text"])
                if len(texts) == n:
                    break
    return texts
