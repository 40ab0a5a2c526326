"""`/v1` routes: submit a text (202 + id, or 200 + score with `?wait=`), read its status and scores."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import JSONResponse

from ingest.gateway.deps import StoreDep, SubmitterDep
from schemas.api import ScoreView, SubmissionAccepted, SubmissionView, SubmitRequest

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["v1"])


@router.post(
    "/texts",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=SubmissionAccepted,
    responses={200: {"model": SubmissionView, "description": "scored within `wait` seconds"}},
)
async def submit_text(
    body: SubmitRequest,
    request: Request,
    submitter: SubmitterDep,
    wait: Annotated[float, Query(ge=0, le=30, description="seconds to wait for the score")] = 0,
) -> SubmissionAccepted | JSONResponse:
    event, score = await submitter.submit(
        body.text, source="http", lang=body.lang, external_id=body.external_id, wait_s=wait
    )
    href = str(request.url_for("read_text", submission_id=event.submission_id).path)
    if score is None:
        return SubmissionAccepted(submission_id=event.submission_id, href=href)
    view = SubmissionView(
        submission_id=event.submission_id,
        status="scored",
        external_id=event.external_id,
        lang=event.lang,
        source=event.source,
        n_chars=len(event.text),
        submitted_at=event.submitted_at,
        scores=[ScoreView.model_validate(score, from_attributes=True)],
    )
    return JSONResponse(view.model_dump(mode="json"), status_code=status.HTTP_200_OK)


@router.get("/texts/{submission_id}", response_model=SubmissionView, name="read_text")
def read_text(submission_id: UUID, store: StoreDep) -> SubmissionView:
    view = store.get(submission_id)
    if view is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no submission {submission_id}")
    return view
