"""How many web pages may follow the live scores (`/ui/scores`) at once in one gateway process: each
holds a connection and a queue of every score, so there is a bound for all and a smaller one per API key
(one key cannot take every place)."""

from collections import Counter
from dataclasses import dataclass, field

__all__ = ["StreamSlots"]


@dataclass
class StreamSlots:
    total: int
    per_key: int
    _open: Counter[str | None] = field(default_factory=Counter)

    def take(self, key: str | None) -> tuple[int, str] | None:
        """A place for a stream of `key` (its name; None: auth is off); when there is none, the HTTP status
        and the reason (503: every place is taken; 429: this key's are)."""
        if sum(self._open.values()) >= self.total:
            return 503, f"{self.total} pages already follow the live scores; try again later"
        if key is not None and self._open[key] >= self.per_key:
            return 429, f"the API key {key!r} already has {self.per_key} pages following the live scores"
        self._open[key] += 1
        return None

    def give_back(self, key: str | None) -> None:
        self._open[key] -= 1
        if self._open[key] <= 0:
            del self._open[key]
