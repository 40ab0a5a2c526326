"""Liveness (`/healthz`: the process answers) and readiness (`/readyz`: the submit path works). The
submit path needs the broker; it needs the database only when submissions are recorded there first
(a volatile broker: ingest/recorder.py), so otherwise a database outage shows in the checks but leaves
the gateway ready: texts are still accepted, and the sink stores them once PostgreSQL is back. The
producer's own health counts too (a fenced producer is replaced: stream/producer.py). The answer names
no host or user: it is served to anyone who can reach the gateway."""

import logging

from fastapi import APIRouter, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from ingest.gateway.deps import StoreDep
from schemas.errors import ServiceUnavailable
from stream.admin import broker_reachable

__all__ = ["router"]

log = logging.getLogger(__name__)
router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request, store: StoreDep) -> JSONResponse:
    checks = {"broker": "ok", "producer": "ok", "database": "ok"}
    if not await run_in_threadpool(broker_reachable, request.app.state.kafka, 2.0):
        checks["broker"] = "unreachable"
    if not request.app.state.producer.healthy:
        checks["producer"] = "failing: replaced by a new one at the next submission"
    try:
        await run_in_threadpool(store.ping)
    except ServiceUnavailable as exc:
        log.warning("readiness: the database did not answer: %s", exc)
        checks["database"] = "unreachable"
    needed = ["broker", "producer", "database"] if request.app.state.recorder is not None else ["broker", "producer"]
    ready = all(checks[name] == "ok" for name in needed)
    code = status.HTTP_200_OK if ready else status.HTTP_503_SERVICE_UNAVAILABLE
    return JSONResponse({"status": "ready" if ready else "not ready", "checks": checks}, status_code=code)
