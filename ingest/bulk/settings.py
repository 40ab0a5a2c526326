"""Bulk ingest settings, from `VERITEXT_BULK_*` variables (read by the composition root only)."""

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from schemas.events import MAX_TEXT_CHARS

__all__ = ["BulkSettings"]


class BulkSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VERITEXT_BULK_", frozen=True, extra="ignore")

    # Events queued in the producer at most (also capped at 64 MiB): this bounds the memory of a run,
    # and a slow broker makes the reader wait once it is full.
    max_in_flight: int = Field(default=10_000, ge=100)
    # The run waits while the scorers are more than this many texts behind (0: never). Below the gateway's
    # bound (VERITEXT_GATEWAY_MAX_BACKLOG), so a bulk run leaves room for interactive submissions.
    max_backlog: int = Field(default=5_000, ge=0)
    max_text_chars: int = Field(default=MAX_TEXT_CHARS, ge=1, le=MAX_TEXT_CHARS)
