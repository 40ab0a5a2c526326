"""The sink's settings, from `VERITEXT_SINK_*` variables (read by the composition root only)."""

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["SinkSettings"]


class SinkSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VERITEXT_SINK_", frozen=True, extra="ignore")

    group_id: str = "veritext-sink"
    max_batch: int = 500
    max_wait_ms: int = 200
    metrics_host: str = "127.0.0.1"
    metrics_port: int = Field(default=0, ge=0, le=65535, description="/metrics and /healthz; 0 serves none")
