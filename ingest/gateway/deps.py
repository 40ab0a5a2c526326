"""Named dependencies of the routes: the submitter (producer + score waiter) and the log reader."""

from typing import Annotated, Protocol
from uuid import UUID

from fastapi import Depends, Request

from ingest.gateway.submit import Submitter
from schemas.api import SubmissionView

__all__ = ["StoreDep", "SubmissionStore", "SubmitterDep"]


class SubmissionStore(Protocol):
    """Reads the log; the composition root supplies the PostgreSQL one."""

    def ping(self) -> None: ...

    def get(self, submission_id: UUID) -> SubmissionView | None: ...


def _submitter(request: Request) -> Submitter:
    return request.app.state.submitter


def _store(request: Request) -> SubmissionStore:
    return request.app.state.store


SubmitterDep = Annotated[Submitter, Depends(_submitter)]
StoreDep = Annotated[SubmissionStore, Depends(_store)]
