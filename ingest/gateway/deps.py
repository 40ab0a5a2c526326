"""Named dependencies of the routes: the submitter (producer + score waiter), the bulk intake,
the log reader, the batch store, and the caller a route needs (reading, submitting, legacy)."""

from typing import Annotated, Protocol
from uuid import UUID

from fastapi import Depends, Request

from ingest.bulk.ledger import BatchLedger
from ingest.gateway.auth import Caller, require
from ingest.gateway.batches import BatchIntake
from ingest.gateway.detectors import DetectorCatalogue
from ingest.gateway.submit import Submitter
from schemas.api import BatchProgress, SubmissionView

__all__ = [
    "BatchStore",
    "BatchStoreDep",
    "DetectorsDep",
    "IntakeDep",
    "LegacyCaller",
    "ReadingCaller",
    "StoreDep",
    "SubmissionStore",
    "SubmitterDep",
    "SubmittingCaller",
]


class SubmissionStore(Protocol):
    """Reads the log; the composition root supplies the PostgreSQL one."""

    def ping(self) -> None: ...

    def get(self, submission_id: UUID, tenant: str | None = None) -> SubmissionView | None: ...


class BatchStore(BatchLedger, Protocol):
    """The batch ledger plus progress reads; the composition root supplies the PostgreSQL one."""

    def progress(self, batch_id: UUID, tenant: str | None = None) -> BatchProgress | None: ...

    def recent(self, limit: int = 20, tenant: str | None = None) -> list[BatchProgress]: ...


async def _submitter(request: Request) -> Submitter:
    return request.app.state.submitter


async def _store(request: Request) -> SubmissionStore:
    return request.app.state.store


async def _intake(request: Request) -> BatchIntake:
    return request.app.state.intake


async def _batches(request: Request) -> BatchStore:
    return request.app.state.batches


async def _detectors(request: Request) -> DetectorCatalogue:
    return request.app.state.detectors


SubmitterDep = Annotated[Submitter, Depends(_submitter)]
IntakeDep = Annotated[BatchIntake, Depends(_intake)]
StoreDep = Annotated[SubmissionStore, Depends(_store)]
BatchStoreDep = Annotated[BatchStore, Depends(_batches)]
DetectorsDep = Annotated[DetectorCatalogue, Depends(_detectors)]
# Who calls (ingest/gateway/auth.py): a route takes the one of the scope it needs.
ReadingCaller = Annotated[Caller, Depends(require("read"))]
SubmittingCaller = Annotated[Caller, Depends(require("submit"))]
LegacyCaller = Annotated[Caller, Depends(require("submit", legacy=True))]
