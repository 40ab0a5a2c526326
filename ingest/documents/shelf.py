"""What the gateway keeps of uploaded documents: their records in the log (the composition root supplies
the PostgreSQL one, store/documents.py) and their originals in the object store (objects.py)."""

from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from ingest.documents.objects import ObjectStore
from schemas.documents import DocumentRecord

__all__ = ["DocumentRecords", "DocumentShelf"]


class DocumentRecords(Protocol):
    def record(self, document: DocumentRecord) -> DocumentRecord: ...

    def get(self, document_id: UUID, tenant: str | None = None) -> DocumentRecord | None: ...

    def delete(self, document_id: UUID, tenant: str | None, by: str | None) -> DocumentRecord | None: ...


@dataclass(frozen=True)
class DocumentShelf:
    records: DocumentRecords
    originals: ObjectStore
