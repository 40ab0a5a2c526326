"""The bot's client of the gateway: submit a text or a document, wait for its score, and turn every way
that can fail into a `GatewayTrouble` with a kind the replies can put politely. Never raises anything
else."""

import asyncio
import time
from dataclasses import dataclass
from typing import Any, Literal

import httpx
from pydantic import SecretStr

__all__ = ["GatewayClient", "GatewayTrouble", "Scored"]

Trouble = Literal["invalid", "too_long", "limited", "busy", "slow", "unreachable", "refused", "missing"]


class GatewayTrouble(Exception):
    def __init__(self, kind: Trouble, detail: str = "", retry_after_s: int | None = None) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class Scored:
    """What the bot tells about a text: its score and the spans of its sentences."""

    text: str
    probability: float
    label: str
    confidence: str | None
    too_short: bool
    detector: str
    segments: list[dict[str, Any]]


class GatewayClient:
    def __init__(self, base_url: str, key: SecretStr | None, wait_s: float) -> None:
        headers = {"X-API-Key": key.get_secret_value()} if key is not None and key.get_secret_value() else {}
        self._http = httpx.AsyncClient(base_url=base_url, headers=headers, timeout=httpx.Timeout(45.0))
        self._wait_s = wait_s

    async def score(self, text: str) -> Scored:
        deadline = time.monotonic() + self._wait_s
        answer = await self._call("POST", "/v1/texts", params={"wait": 30}, json={"text": text})
        view = await self._scored(answer.json(), f"/v1/texts/{answer.json()['submission_id']}", deadline)
        return _scored(text, view["scores"][0])

    async def score_document(self, data: bytes, filename: str | None) -> Scored:
        """A file (PDF, DOCX, ...): the gateway reads its text; each segment names its page or paragraph
        (`part`) instead of the bot quoting it (the bot does not hold the text)."""
        deadline = time.monotonic() + self._wait_s
        answer = await self._call("POST", "/v1/documents", files={"file": (filename or "document", data)})
        view = await self._scored({"status": "queued"}, answer.json()["href"], deadline)
        return _scored("", view["verdicts"][0])

    async def _scored(self, view: dict[str, Any], href: str, deadline: float) -> dict[str, Any]:
        """`view` once scored: polled at `href` until then."""
        while view.get("status") != "scored":
            if view.get("status") == "failed":
                raise GatewayTrouble("refused", view.get("failure") or "the text could not be scored")
            if time.monotonic() > deadline:
                raise GatewayTrouble("slow", "no score in time")
            await asyncio.sleep(1.0)
            view = await self._view(href)
        return view

    async def _view(self, href: str) -> dict[str, Any]:
        """The submission or document as the log holds it; queued while the log does not hold it yet (404)."""
        try:
            return (await self._call("GET", href)).json()
        except GatewayTrouble as trouble:
            if trouble.kind == "missing":
                return {"status": "queued"}
            raise

    async def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            answer = await self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise GatewayTrouble("unreachable", str(exc) or type(exc).__name__) from exc
        if answer.status_code < 400:
            return answer
        try:
            detail = str(answer.json().get("detail", ""))
        except ValueError:
            detail = answer.text[:200]
        retry = answer.headers.get("retry-after")
        retry_after = int(retry) if retry and retry.isdigit() else None
        kinds: dict[int, Trouble] = {
            401: "refused",
            403: "refused",
            404: "missing",
            413: "too_long",
            422: "invalid",
            429: "limited",
            503: "busy",
            504: "slow",
        }
        kind = kinds.get(answer.status_code, "busy")
        raise GatewayTrouble(kind, detail, retry_after)

    async def close(self) -> None:
        await self._http.aclose()


def _scored(text: str, score: dict[str, Any]) -> Scored:
    """A score (`/v1/texts`) or a verdict (`/v1/documents`) as the replies use it."""
    return Scored(
        text=text,
        probability=score["probability"],
        label=score["label"],
        confidence=score.get("confidence"),
        too_short=score.get("too_short", False),
        detector=f"{score['detector_name']}@{score['detector_version']}",
        segments=score.get("segments") or [],
    )
