"""The sink's settings, from `VERITEXT_SINK_*` variables (read by the composition root only)."""

from pydantic_settings import SettingsConfigDict

from stream.settings import WorkerSettings

__all__ = ["SinkSettings"]


class SinkSettings(WorkerSettings):
    model_config = SettingsConfigDict(env_prefix="VERITEXT_SINK_", frozen=True, extra="ignore")

    group_id: str = "veritext-sink"
    max_batch: int = 500
    max_wait_ms: int = 200
