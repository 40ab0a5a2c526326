"""Scorer settings, from `VERITEXT_SCORER_*` variables (read by the composition root only)."""

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["ScorerSettings"]


class ScorerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VERITEXT_SCORER_", frozen=True, extra="ignore")

    detector: str = "fast-detectgpt"  # NAME, NAME@VERSION, or module:factory for a plug-in
    group_id: str = "veritext-scorer"
    max_batch: int = Field(default=16, ge=1, le=512)
    max_wait_ms: int = Field(default=50, ge=1)
    # A batch must finish within this (a CPU batch of 16 long texts takes ~45 s). It does not delay
    # assignment: a joining scorer waits only until the busy one finishes its batch (measured on Tansu).
    max_poll_interval_ms: int = Field(default=300_000, ge=10_000)
    model_dir: Path = Path("~/.cache/veritext/models").expanduser()
    metrics_host: str = "127.0.0.1"
    metrics_port: int = Field(default=0, ge=0, le=65535, description="/metrics and /healthz; 0 serves none")
