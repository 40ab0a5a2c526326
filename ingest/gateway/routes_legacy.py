"""The two original synchronous contracts, kept so existing clients work unchanged."""

from fastapi import APIRouter

from ingest.gateway.deps import LegacyCaller, SubmitterDep
from ingest.gateway.errors import ERROR_RESPONSES
from ingest.legacy import legacy_result
from schemas.api import PredictionsRequest, PredictionsResponse, PredictRequest, PredictResponse

__all__ = ["router"]

router = APIRouter(tags=["legacy"], responses=ERROR_RESPONSES)


@router.post("/predict", response_model=PredictResponse)
async def predict(body: PredictRequest, caller: LegacyCaller, submitter: SubmitterDep) -> PredictResponse:
    await caller.use_quota(1)
    _, score = await submitter.submit_and_wait(
        body.text, source="predict", tenant=caller.tenant, normalised=body.normalised
    )
    return PredictResponse(text=body.text, result=legacy_result(body.text, score.probability))


@router.post("/predictions/predict", response_model=PredictionsResponse)
async def predictions_predict(
    body: PredictionsRequest, caller: LegacyCaller, submitter: SubmitterDep
) -> PredictionsResponse:
    await caller.use_quota(1)
    _, score = await submitter.submit_and_wait(
        body.data.text, source="predict", tenant=caller.tenant, normalised=body.data.normalised
    )
    return PredictionsResponse.of(score)
