"""What the pages read beyond the API's own reads (the submission and batch stores), as a protocol the
composition root fills (the gateway does not import the sink): a submission's text, the latest scores, a
batch's results as CSV, the comparison of two versions, and the deployment's status. `tenant` None
reads every tenant's."""

from collections.abc import Iterator
from typing import Any, Protocol
from uuid import UUID

from schemas.api import RecentText
from schemas.results import Comparison

__all__ = ["PageReads"]


class PageReads(Protocol):
    def text_of(self, submission_id: UUID, tenant: str | None) -> str | None: ...

    def recent_texts(self, tenant: str | None, limit: int) -> list[RecentText]: ...

    def batch_csv(self, batch_id: UUID, tenant: str | None) -> Iterator[str]:
        """The batch's results, as `veritext export --format csv` writes them, in chunks."""
        ...

    def compare(self, a: str, b: str, tenant: str | None) -> Comparison:
        """Raises ConfigError when either version has no scores."""
        ...

    def status(self) -> Any:
        """What `veritext status` shows (a StatusReport)."""
        ...
