"""Database settings, from `VERITEXT_DATABASE_*` variables (read by the composition root only)."""

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["DatabaseSettings", "sqlalchemy_url"]


def sqlalchemy_url(url: str) -> str:
    """Accept `postgres://` and `postgresql://` URLs and use the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class DatabaseSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VERITEXT_DATABASE_", frozen=True, extra="ignore")

    url: str = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"

    _normalise = field_validator("url")(sqlalchemy_url)
