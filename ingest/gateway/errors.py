"""The gateway's error answers, declared once: every route may answer 401, 403, 404, 413, 415, 422, 429,
503 and 504 with an `ErrorBody` (`detail`: the reason, or the list of problems FastAPI found in a malformed body).
A 503 is `ServiceUnavailable` raised anywhere below a route, a 429 `RateLimited`; app.py answers both with
`Retry-After`."""

from typing import Any

from schemas.api import ErrorBody

__all__ = ["ERROR_RESPONSES"]

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody, "description": description}
    for code, description in (
        (401, "no API key, or an unknown, malformed or revoked one (VERITEXT_AUTH=api-keys)"),
        (403, "the API key lacks the scope the route needs"),
        (404, "no such resource"),
        (413, "the body or the text is too large"),
        (415, "the body is not of a type the route reads"),
        (422, "the body or a parameter is malformed, or names what does not exist"),
        (429, "the API key is past its rate limit or its quota; send it again after Retry-After seconds"),
        (503, "overloaded, or the event log did not answer; send it again after Retry-After seconds"),
        (504, "the score did not come in time; the text is still scored (poll its href)"),
    )
}
