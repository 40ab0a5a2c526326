"""Gateway settings, from `VERITEXT_GATEWAY_*` variables (read by the composition root only)."""

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from schemas.events import MAX_TEXT_CHARS

__all__ = ["GatewaySettings"]


class GatewaySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VERITEXT_GATEWAY_", frozen=True, extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8000
    max_text_chars: int = Field(default=MAX_TEXT_CHARS, ge=1, le=MAX_TEXT_CHARS)
    sync_timeout_s: float = Field(default=30.0, gt=0, description="how long /predict waits for a score")
    produce_timeout_s: float = Field(default=10.0, gt=0, description="how long a submit waits for the broker")
    batch_max_in_flight: int = Field(default=1000, ge=1, description="events of one batch awaiting the broker at once")
