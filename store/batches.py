"""The batch ledger and batch progress, on the log database.

Bulk ingest (file or HTTP) records each run here: opened, then how many of its events the broker
acknowledged, then finished. Progress joins that with the log the sink builds: a text of the
batch is scored once any detector version scored it, failed when it has a dead letter and no
score. A batch is `ingesting` until its run finished, then `scoring` until every text it
submitted is scored or failed, then `scored`; a run that finished with nothing accepted (say, no line
had the text field) is `empty`, never `scored`. A batch the ledger does not know (say, its events
were replayed into a fresh database) is measured on the submissions the log holds.
"""

from contextlib import AbstractContextManager
from uuid import UUID

from sqlalchemy import Engine, exists, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from schemas.api import BatchProgress, BatchStatus
from store.db import reading
from store.models import Batch, Failure, Score, Submission

__all__ = ["SqlBatchStore"]


class SqlBatchStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def open_batch(self, batch_id: UUID, name: str, tenant: str | None = None) -> None:
        """Idempotent: a batch sent again under its Idempotency-Key keeps its row."""
        with self._session() as session, session.begin():
            row = {"id": batch_id, "name": name[:2000], "tenant": tenant}
            session.execute(insert(Batch).values(row).on_conflict_do_nothing())

    def record_progress(
        self, batch_id: UUID, *, submitted: int, rejected: int, duplicates: int, finished: bool
    ) -> None:
        values: dict[str, object] = {"submitted": submitted, "rejected": rejected, "duplicates": duplicates}
        if finished:
            values["finished_at"] = func.now()
        with self._session() as session, session.begin():
            session.execute(update(Batch).where(Batch.id == batch_id).values(**values))

    def progress(self, batch_id: UUID, tenant: str | None = None) -> BatchProgress | None:
        """`tenant`: only a batch that tenant sent (None: any); another's reads as unknown."""
        with self._session() as session:
            batch = session.get(Batch, batch_id)
            if tenant is not None and (batch is None or batch.tenant != tenant):
                return None
            return self._progress(session, batch_id, batch)

    def recent(self, limit: int = 20, tenant: str | None = None) -> list[BatchProgress]:
        """The latest batches in the ledger (of one tenant), newest first."""
        query = select(Batch).order_by(Batch.created_at.desc()).limit(limit)
        if tenant is not None:
            query = query.where(Batch.tenant == tenant)
        with self._session() as session:
            batches = session.scalars(query).all()
            found = [self._progress(session, b.id, b) for b in batches]
        return [p for p in found if p is not None]

    def _progress(self, session: Session, batch_id: UUID, batch: Batch | None) -> BatchProgress | None:
        has_score = exists().where(Score.submission_id == Submission.id)
        has_failure = exists().where(Failure.submission_id == Submission.id)
        stored, scored, failed = session.execute(
            select(
                func.count(),
                func.count().filter(has_score),
                func.count().filter(~has_score & has_failure),
            ).where(Submission.batch_id == batch_id)
        ).one()
        if batch is None and stored == 0:
            return None
        submitted = batch.submitted if batch is not None else stored
        status: BatchStatus
        if batch is not None and batch.finished_at is None:
            status = "ingesting"
        elif submitted == 0:
            status = "empty"
        elif scored + failed >= submitted:
            status = "scored"
        else:
            status = "scoring"
        return BatchProgress(
            batch_id=batch_id,
            name=batch.name if batch is not None else "(not in the batch ledger)",
            status=status,
            submitted=submitted,
            scored=scored,
            failed=failed,
            rejected=batch.rejected if batch is not None else 0,
            duplicates=batch.duplicates if batch is not None else 0,
            created_at=batch.created_at if batch is not None else None,
            finished_at=batch.finished_at if batch is not None else None,
        )

    def _session(self) -> AbstractContextManager[Session]:
        return reading(self._engine)
