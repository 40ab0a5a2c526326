"""Gateway settings, from `VERITEXT_GATEWAY_*` and `VERITEXT_AUTH*` variables (read by the composition
root only)."""

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from schemas.events import MAX_TEXT_CHARS
from schemas.keys import KEY_NAME

__all__ = ["AuthSettings", "GatewaySettings"]


class GatewaySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VERITEXT_GATEWAY_", frozen=True, extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = Field(
        default=1,
        ge=1,
        le=64,
        description="gateway processes `veritext up` runs on the one port (`veritext gateway --reuse-port`); "
        "with API keys they need a shared VERITEXT_AUTH_LIMITS_STORAGE",
    )
    max_text_chars: int = Field(default=MAX_TEXT_CHARS, ge=1, le=MAX_TEXT_CHARS)
    sync_timeout_s: float = Field(default=30.0, gt=0, description="how long /predict waits for a score")
    produce_timeout_s: float = Field(default=10.0, gt=0, description="how long a submit waits for the broker")
    batch_max_in_flight: int = Field(default=1000, ge=1, description="events of one batch awaiting the broker at once")
    batch_max_lines: int = Field(default=100_000, ge=1, description="lines of one POST /v1/batches body")
    batch_max_bytes: int = Field(default=256 * 2**20, ge=1, description="bytes of one POST /v1/batches body")
    document_max_bytes: int = Field(default=20 * 2**20, ge=1, description="bytes of one POST /v1/documents body")
    # Backpressure: past these the gateway answers 503 with Retry-After instead of queueing without end.
    max_in_flight: int = Field(default=256, ge=1, description="submissions in progress at once (per process)")
    target_latency_ms: float = Field(
        default=100.0, gt=0, description="answer time a quick submit is kept within; past it the gateway sheds load"
    )
    max_sync_waits: int = Field(default=64, ge=1, description="requests waiting for their score at once")
    max_sync_waits_per_key: int = Field(
        default=16, ge=1, description="of them, requests of one API key (with API keys on)"
    )
    max_backlog: int = Field(default=10_000, ge=0, description="texts the scorers may be behind; 0: no bound")
    producer_queue: int = Field(default=10_000, ge=1, description="events awaiting the broker in the gateway")
    retry_after_s: int = Field(default=5, ge=1, description="what a 503 tells the client to wait")
    forwarded_allow_ips: str = Field(
        default="127.0.0.1",
        description="proxies (comma-separated IPs, or *) whose X-Forwarded-Proto and -For are believed: behind TLS "
        "termination the web page's cookies are then Secure",
    )
    allowed_hosts: str = Field(
        default="",
        description="with VERITEXT_AUTH=none, Host names served besides loopback ones and the bind address "
        "(comma-separated; * for any): other Hosts get 400, so a DNS-rebinding page cannot read the texts",
    )
    max_streams: int = Field(default=64, ge=1, description="web pages following live scores at once (per process)")
    max_streams_per_key: int = Field(default=4, ge=1, description="of them, pages of one API key")

    @property
    def trusted_hosts(self) -> list[str]:
        """The Host names an open gateway (no keys) answers: loopback names, its bind address, `allowed_hosts`."""
        extra = [h.strip() for h in self.allowed_hosts.split(",") if h.strip()]
        return ["localhost", "127.0.0.1", "::1", "[::1]", self.host, *extra]

    def body_limit(self, path: str) -> int:
        """The bytes a request's body may have on `path` (413 past them, before it is read whole)."""
        if path == "/v1/batches":
            return self.batch_max_bytes
        if path in ("/v1/documents", "/ui/documents"):
            return self.document_max_bytes
        return self.max_body_bytes

    @property
    def max_body_bytes(self) -> int:
        """The body of one text request, or one line of a batch: the longest text, each character escaped
        as \\uXXXX, and room."""
        return self.max_text_chars * 6 + 65_536


class AuthSettings(BaseSettings):
    """`VERITEXT_AUTH` (the mode) and `VERITEXT_AUTH_*`: who may use the gateway (ingest/gateway/auth.py)."""

    model_config = SettingsConfigDict(env_prefix="VERITEXT_AUTH_", frozen=True, extra="ignore")

    mode: Literal["none", "api-keys"] | None = Field(
        default=None,
        validation_alias="VERITEXT_AUTH",
        description="unset: none on a loopback address, refused on any other",
    )
    legacy_open: bool = Field(default=False, description="/predict and /predictions/predict answer without a key")
    legacy_tenant: str = Field(default="legacy", pattern=KEY_NAME, description="whom open legacy requests count as")
    limits_storage: SecretStr = Field(
        default=SecretStr("memory://"),
        description="where rate-limit and quota counters live: memory:// (one process) or redis://host:port/db",
    )
    key_cache_s: float = Field(default=0.5, gt=0, le=1.0, description="how long a looked-up key is trusted")
    session_hours: float = Field(default=12.0, gt=0, le=720, description="how long a web page sign-in lasts")
