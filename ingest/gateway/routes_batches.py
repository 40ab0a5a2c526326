"""`/v1/batches`: submit many texts as one NDJSON body (202 + batch id + per-line rejects), and
read a batch's progress (submitted, scored, failed)."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Header, HTTPException, Request, status

from ingest.gateway.deps import BatchStoreDep, IntakeDep, ReadingCaller, SubmitterDep, SubmittingCaller
from ingest.gateway.errors import ERROR_RESPONSES
from ingest.gateway.idempotency import IDEMPOTENCY_HEADER
from schemas.api import BatchAccepted, BatchProgress

__all__ = ["NDJSON_TYPES", "router"]

router = APIRouter(prefix="/v1", tags=["v1"], responses=ERROR_RESPONSES)

NDJSON_TYPES = ("application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines")

_BODY_DOC = {
    "requestBody": {
        "required": True,
        "description": "One JSON object per line (NDJSON), each like the body of `POST /v1/texts`: "
        '`{"text": "..."}`. The schema describes the lines as the items of an array.',
        "content": {
            t: {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/SubmitRequest"}}}
            for t in NDJSON_TYPES
        },
    }
}


@router.post(
    "/batches",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=BatchAccepted,
    openapi_extra=_BODY_DOC,
)
async def submit_batch(
    request: Request,
    caller: SubmittingCaller,
    intake: IntakeDep,
    batches: BatchStoreDep,
    submitter: SubmitterDep,
    idempotency_key: Annotated[
        str | None, Header(alias=IDEMPOTENCY_HEADER, description="the same body sent again gets the same batch")
    ] = None,
) -> BatchAccepted:
    content_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if content_type not in NDJSON_TYPES:
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            f"send NDJSON (content-type {NDJSON_TYPES[0]}), one JSON object per line; got {content_type or 'none'}",
        )
    submitter.refuse_when_behind()
    accepted = await intake.ingest(request.stream(), batches, caller, idempotency_key)
    if accepted is None:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, "the body holds no lines; send one JSON object a line"
        )
    return accepted


@router.get("/batches/{batch_id}", response_model=BatchProgress, name="read_batch")
def read_batch(batch_id: UUID, caller: ReadingCaller, batches: BatchStoreDep) -> BatchProgress:
    """Another tenant's batch answers 404, as one that does not exist."""
    progress = batches.progress(batch_id, caller.reads_as)
    if progress is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no batch {batch_id}")
    return progress
