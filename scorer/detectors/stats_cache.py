"""A file cache of likelihood statistics for the offline tools (train-calibration, eval).

Fitting and evaluating read the same texts many times; the model pass is the slow part (about a text a
second on two CPU cores). The cache maps the SHA-256 of a text to its `TextStatistics`, in one JSON
Lines file per model setup (model ids, window, the statistics kept), appended as batches finish, so an
interrupted run keeps what it measured. The live scorer does not use it.
"""

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import fields
from pathlib import Path

from scorer.detectors.lm_statistics import LMStatistics, TextStatistics

__all__ = ["DEFAULT_STATS_CACHE", "CachedStatistics"]

DEFAULT_STATS_CACHE = Path("~/.cache/veritext/stats").expanduser()


class CachedStatistics:
    def __init__(self, statistics: LMStatistics, cache_dir: Path, batch_size: int = 16) -> None:
        performer = statistics.performer.model_id if statistics.performer else "-"
        setup = [
            statistics.model.model_id,
            performer,
            statistics.window,
            statistics.skip_tokens,
            statistics.numerics,
            *(field.name for field in fields(TextStatistics)),  # what a cached row holds
        ]
        key = hashlib.sha256("|".join(map(str, setup)).encode()).hexdigest()
        self._statistics = statistics
        self.numerics = statistics.numerics
        self._batch_size = batch_size
        self.path = Path(cache_dir).expanduser() / f"stats-{key[:16]}.jsonl"
        self._known: dict[str, TextStatistics] = {}
        if self.path.exists():
            for line in self.path.read_text(encoding="utf-8").splitlines():
                row = json.loads(line)
                self._known[row["sha"]] = TextStatistics(*row["stats"])

    def statistics(
        self, texts: Sequence[str], progress: Callable[[int], None] = lambda n: None
    ) -> list[TextStatistics]:
        """Statistics of `texts`, measuring only the unknown ones; `progress(n)` after each n texts."""
        keys = [hashlib.sha256(text.encode()).hexdigest() for text in texts]
        missing = sorted({k: t for k, t in zip(keys, texts, strict=True) if k not in self._known}.items())
        progress(len(texts) - len(missing))
        missing.sort(key=lambda item: len(item[1]))  # similar lengths batch together
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for start in range(0, len(missing), self._batch_size):
            batch = missing[start : start + self._batch_size]
            measured = self._statistics.statistics([text for _, text in batch])
            with self.path.open("a", encoding="utf-8") as handle:
                for (key, _), stats in zip(batch, measured, strict=True):
                    self._known[key] = stats
                    handle.write(json.dumps({"sha": key, "stats": list(stats.__dict__.values())}) + "\n")
            progress(len(batch))
        return [self._known[key] for key in keys]
