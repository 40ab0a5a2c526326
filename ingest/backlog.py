"""How far behind the scorers are: the scorer group's lag on [submissions], read in a background
thread every few seconds (stream/lag.py), so a submit never waits on it. The gateway answers 503 with
`Retry-After` to new submissions while the backlog is past its bound, and `veritext ingest` waits,
instead of piling up texts nobody will score for hours. An unreadable lag (the broker is down) counts
as no backlog: the write itself then fails with its own reason."""

import logging
import threading

from schemas.errors import ServiceUnavailable
from stream.lag import group_lag, partition_offsets
from stream.settings import KafkaSettings

__all__ = ["BacklogMonitor"]

log = logging.getLogger(__name__)


class BacklogMonitor:
    def __init__(self, kafka: KafkaSettings, scorer_group: str, limit: int, interval_s: float = 2.0) -> None:
        self.limit = limit  # 0: no bound, and nothing is read
        self.texts = 0  # the scorers' backlog at the last reading
        self._kafka = kafka
        self._group = scorer_group
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def over(self) -> bool:
        return self.limit > 0 and self.texts > self.limit

    def start(self) -> "BacklogMonitor":
        if self.limit > 0:
            self._thread = threading.Thread(target=self._watch, name="backlog", daemon=True)
            self._thread.start()
        return self

    def read(self) -> int:
        """Read the backlog now (also what the thread does every `interval_s`)."""
        try:
            offsets = partition_offsets(self._kafka, [self._kafka.topics.submissions], timeout_s=5.0)
            self.texts = sum(p.lag for p in group_lag(self._kafka, self._group, offsets, timeout_s=5.0))
        except ServiceUnavailable as exc:
            log.debug("backlog unknown: %s", exc)
            self.texts = 0
        return self.texts

    def _watch(self) -> None:
        while not self._stop.is_set():
            self.read()
            self._stop.wait(self._interval_s)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
