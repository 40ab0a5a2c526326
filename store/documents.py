"""The documents table (store/models.py `Document`): the gateway records an uploaded file before its
text is submitted, reads it back for `GET /v1/documents/{id}`, and marks it deleted for its owner."""

from uuid import UUID

from sqlalchemy import Engine, func, select, update
from sqlalchemy.dialects.postgresql import insert

from schemas.documents import DocumentPart, DocumentRecord
from store.db import reading
from store.models import Document, Submission

__all__ = ["SqlDocumentStore"]


class SqlDocumentStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def record(self, document: DocumentRecord) -> DocumentRecord:
        """The document as the log keeps it: a document sent again under its Idempotency-Key keeps the
        first row (the caller compares the files' sha256)."""
        row = document.model_dump(exclude={"document_id", "created_at", "deleted_at", "deleted_by"})
        row["parts"] = [part.model_dump() for part in document.parts]
        with reading(self._engine) as session, session.begin():
            session.execute(insert(Document).values(id=document.document_id, **row).on_conflict_do_nothing())
            return _record(session.get_one(Document, document.document_id))

    def get(self, document_id: UUID, tenant: str | None = None) -> DocumentRecord | None:
        """`tenant`: only a document that tenant sent (None: any); another's reads as unknown."""
        with reading(self._engine) as session:
            row = session.get(Document, document_id)
            if row is None or (tenant is not None and row.tenant != tenant):
                return None
            return _record(row)

    def delete(self, document_id: UUID, tenant: str | None, by: str | None) -> DocumentRecord | None:
        """Mark the document deleted (when, by whom) and empty its text in the log; None when `tenant`
        has no such document. Deleting it again changes nothing."""
        with reading(self._engine) as session, session.begin():
            row = session.get(Document, document_id, with_for_update=True)
            if row is None or (tenant is not None and row.tenant != tenant):
                return None
            if row.deleted_at is None:
                row.deleted_at = session.scalar(select(func.now()))
                row.deleted_by = by
                session.execute(update(Submission).where(Submission.id == row.submission_id).values(text=""))
            return _record(row)


def _record(row: Document) -> DocumentRecord:
    return DocumentRecord(
        document_id=row.id,
        submission_id=row.submission_id,
        tenant=row.tenant,
        filename=row.filename,
        media_type=row.media_type,
        size_bytes=row.size_bytes,
        sha256=row.sha256,
        object_key=row.object_key,
        parts=[DocumentPart.model_validate(part) for part in row.parts],
        created_at=row.created_at,
        deleted_at=row.deleted_at,
        deleted_by=row.deleted_by,
    )
