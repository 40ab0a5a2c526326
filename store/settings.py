"""Database settings, from `VERITEXT_DATABASE_*` variables (read by the composition root only)."""

from pydantic import SecretStr, field_validator
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

    # a secret: it may hold the password; shown only through schemas.secrets.safe_url
    url: SecretStr = SecretStr("postgresql+psycopg://postgres@127.0.0.1:5432/postgres")

    @field_validator("url", mode="before")
    @classmethod
    def _normalise(cls, url: object) -> object:
        return sqlalchemy_url(url) if isinstance(url, str) else url
