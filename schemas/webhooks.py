"""Webhooks: a submission may name a `callback_url`; once its score is stored, the sink POSTs the verdict
there (sink/webhooks.py), signed, retried, and every attempt recorded. This module is the contract both
sides share: the settings, the check of a callback URL at the door, the per-tenant signing secret and the
signature.

Signing (docs/api.md, "Webhooks"): each delivery carries `Veritext-Webhook-Id` (the same on every
retry of one verdict: `SUBMISSION_ID:DETECTOR_VERSION`, what a receiver deduplicates on),
`Veritext-Webhook-Timestamp` (Unix seconds of the attempt) and `Veritext-Signature: v1=HEX`, the
HMAC-SHA256 of `TIMESTAMP.BODY` under the tenant's secret. A receiver recomputes it and refuses a
timestamp older than its replay window (5 minutes is usual). The tenant's secret is derived from the
deployment's `VERITEXT_WEBHOOKS_SECRET` and the tenant's name, so each API key's tenant has its own,
read with `GET /v1/webhooks/secret`; nothing secret is stored per key."""

import hashlib
import hmac
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from schemas.events import ScoreEvent
from schemas.text import check_plain
from schemas.verdict import ScoreView

__all__ = [
    "ID_HEADER",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "WEBHOOKS_OFF",
    "CallbackUrl",
    "WebhookSettings",
    "check_callback_url",
    "sign",
    "tenant_secret",
    "webhook_body",
]

ID_HEADER = "Veritext-Webhook-Id"
TIMESTAMP_HEADER = "Veritext-Webhook-Timestamp"
SIGNATURE_HEADER = "Veritext-Signature"
MAX_URL_CHARS = 2048
WEBHOOKS_OFF = "webhooks are off on this deployment (VERITEXT_WEBHOOKS_SECRET is not set)"


class WebhookSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VERITEXT_WEBHOOKS_", frozen=True, extra="ignore")

    secret: SecretStr | None = Field(
        default=None, description="the deployment's signing secret; unset: webhooks are off (`up` makes one)"
    )
    allow_private: bool = Field(
        default=False, description="deliver to private, loopback and link-local addresses (refused by default)"
    )
    timeout_s: float = Field(default=10.0, gt=0, description="how long one delivery attempt may take")
    retry_for_s: float = Field(default=86_400.0, gt=0, description="how long a failing delivery is retried")
    backoff_s: float = Field(
        default=2.0, gt=0, description="the first retry's delay; doubled each time, at most 10 min"
    )


_BODY_FIELDS = {"submission_id", "replayed", *ScoreView.model_fields}


def webhook_body(score: ScoreEvent) -> dict[str, Any]:
    """What a delivery POSTs (JSON): `id` (as `Veritext-Webhook-Id`), `event` and the verdict."""
    return {
        "id": f"{score.submission_id}:{score.detector_version}",
        "event": "score.stored",
        **score.model_dump(mode="json", include=_BODY_FIELDS),
    }


def check_callback_url(url: str) -> str:
    """`url` if it can be a callback (http or https, a host, no credentials), else ValueError with why.
    Where it points is checked at each delivery, when it is resolved (sink/webhooks.py)."""
    check_plain(url)
    if len(url) > MAX_URL_CHARS:
        raise ValueError(f"callback_url has more than {MAX_URL_CHARS} characters")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("callback_url must be an http or https URL with a host")
    if parts.username is not None or parts.password is not None:
        raise ValueError("callback_url must not carry credentials")
    return url


def tenant_secret(secret: SecretStr, tenant: str | None) -> str:
    """The signing secret of `tenant` (None: a deployment without API keys), hex."""
    return hmac.new(secret.get_secret_value().encode(), f"webhook:{tenant or ''}".encode(), hashlib.sha256).hexdigest()


def sign(secret_hex: str, timestamp: int, body: bytes) -> str:
    """The `Veritext-Signature` header's value for `body` sent at `timestamp`."""
    digest = hmac.new(secret_hex.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"v1={digest}"


CallbackUrl = Annotated[str, AfterValidator(check_callback_url)]
