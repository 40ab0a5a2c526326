"""`/v1` routes: submit a text (202 + id, or 200 + score with `?wait=`), read its status and scores."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Header, HTTPException, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from ingest.gateway.deps import (
    DetectorsDep,
    ReadingCaller,
    StoreDep,
    SubmissionStore,
    SubmitterDep,
    SubmittingCaller,
)
from ingest.gateway.errors import ERROR_RESPONSES
from ingest.gateway.idempotency import IDEMPOTENCY_HEADER, submission_id_for
from schemas.api import (
    DetectorList,
    SubmissionAccepted,
    SubmissionView,
    SubmitRequest,
    WebhookSecret,
)
from schemas.events import content_hash
from schemas.verdict import ScoreView
from schemas.webhooks import tenant_secret

__all__ = ["refuse_key_reuse", "router"]

router = APIRouter(prefix="/v1", tags=["v1"], responses=ERROR_RESPONSES)


@router.post(
    "/texts",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=SubmissionAccepted,
    responses={200: {"model": SubmissionView, "description": "scored within `wait` seconds"}},
)
async def submit_text(
    body: SubmitRequest,
    request: Request,
    caller: SubmittingCaller,
    submitter: SubmitterDep,
    detectors: DetectorsDep,
    store: StoreDep,
    wait: Annotated[float, Query(ge=0, le=30, description="seconds to wait for the score")] = 0,
    idempotency_key: Annotated[
        str | None, Header(alias=IDEMPOTENCY_HEADER, description="retries with the same key get the same submission")
    ] = None,
) -> SubmissionAccepted | JSONResponse:
    submission_id = submission_id_for(idempotency_key, caller.tenant)
    await refuse_key_reuse(store, submission_id, body.text, idempotency_key)
    await caller.use_quota(1)
    event, score = await submitter.submit(
        body.text,
        source="http",
        tenant=caller.tenant,
        lang=body.lang,
        external_id=body.external_id,
        detector=detectors.resolve(body.detector),
        normalised=body.normalised,
        submission_id=submission_id,
        callback_url=caller.callback(body.callback_url, submitter.webhooks_on),
        wait_s=wait,
    )
    href = str(request.url_for("read_text", submission_id=event.submission_id).path)
    if score is None:
        return SubmissionAccepted(submission_id=event.submission_id, href=href, normalised=event.normalised)
    view = SubmissionView(
        submission_id=event.submission_id,
        status="scored",
        external_id=event.external_id,
        lang=event.lang,
        source=event.source,
        n_chars=len(event.text),
        content_hash=content_hash(event.text),
        submitted_at=event.submitted_at,
        normalised=event.normalised,
        scores=[ScoreView.of(score)],
    )
    return JSONResponse(view.model_dump(mode="json"), status_code=status.HTTP_200_OK)


async def refuse_key_reuse(store: SubmissionStore, submission_id: UUID, text: str, key: str | None) -> None:
    """A 422 when the `Idempotency-Key` that names `submission_id` was used for another text."""
    if key is None:
        return
    earlier = await run_in_threadpool(store.get, submission_id)
    if earlier is not None and earlier.content_hash != content_hash(text):
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"{IDEMPOTENCY_HEADER} {key!r} was used for another text ({earlier.submission_id})",
        )


@router.get("/detectors", response_model=DetectorList)
def list_detectors(_: ReadingCaller, detectors: DetectorsDep) -> DetectorList:
    """The detector versions the scorers run, the default first, each with its evaluation report."""
    return DetectorList(data=list(detectors.views), count=len(detectors.views))


@router.get("/webhooks/secret", response_model=WebhookSecret)
def webhook_secret(request: Request, caller: SubmittingCaller) -> WebhookSecret:
    """The secret the verdicts POSTed to this key's callbacks are signed with (docs/api.md, 'Webhooks')."""
    webhooks = request.app.state.webhooks
    if webhooks is None or webhooks.secret is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "webhooks are off on this deployment")
    return WebhookSecret(secret=tenant_secret(webhooks.secret, caller.tenant))


@router.get("/texts/{submission_id}", response_model=SubmissionView, name="read_text")
def read_text(submission_id: UUID, caller: ReadingCaller, store: StoreDep) -> SubmissionView:
    """Another tenant's submission answers 404, as one that does not exist."""
    view = store.get(submission_id, caller.reads_as)
    if view is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no submission {submission_id}")
    return view
