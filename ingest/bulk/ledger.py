"""What a bulk run needs from the log database, as small protocols the composition root fills
(ingest does not import the sink): a ledger of batches for progress, and a content-hash lookup
for `--dedupe`."""

from collections.abc import Collection
from typing import Protocol
from uuid import UUID

__all__ = ["BatchLedger", "HashIndex"]


class BatchLedger(Protocol):
    def open_batch(self, batch_id: UUID, name: str, tenant: str | None = None) -> None:
        """Record that a batch started (sent by `tenant`, the API key's name, when auth is on)."""

    def record_progress(
        self, batch_id: UUID, *, submitted: int, rejected: int, duplicates: int, finished: bool
    ) -> None:
        """Record how many events of the batch are durable in the topic so far."""


class HashIndex(Protocol):
    def known_hashes(self, hashes: Collection[str]) -> set[str]:
        """Those of `hashes` (content hashes) whose text is already in the log."""
