"""The gateway's error answers, declared once: every route may answer 404, 413, 415, 422, 503 and 504
with an `ErrorBody` (`detail`: the reason, or the list of problems FastAPI found in a malformed body),
and a 503 always carries `Retry-After`."""

from typing import Any

from fastapi import HTTPException, status

from ingest.gateway.settings import GatewaySettings
from schemas.api import ErrorBody

__all__ = ["ERROR_RESPONSES", "unavailable"]

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody, "description": description}
    for code, description in (
        (404, "no such resource"),
        (413, "the body or the text is too large"),
        (415, "the body is not of a type the route reads"),
        (422, "the body or a parameter is malformed, or names what does not exist"),
        (503, "overloaded, or the event log did not answer; send it again after Retry-After seconds"),
        (504, "the score did not come in time; the text is still scored (poll its href)"),
    )
}


def unavailable(settings: GatewaySettings, reason: str) -> HTTPException:
    """503 with the reason and `Retry-After`: the client should send the same request again later."""
    return HTTPException(
        status.HTTP_503_SERVICE_UNAVAILABLE, reason, headers={"Retry-After": str(settings.retry_after_s)}
    )
