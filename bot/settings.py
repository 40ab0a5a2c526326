"""Bot settings, from `VERITEXT_TELEGRAM_*` and `VERITEXT_GATEWAY_URL` (read by the composition root only)."""

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from stream.settings import WorkerSettings

__all__ = ["BotSettings"]


class BotSettings(WorkerSettings):
    model_config = SettingsConfigDict(env_prefix="VERITEXT_TELEGRAM_", frozen=True, extra="ignore")

    token: SecretStr | None = Field(default=None, description="the bot's token from @BotFather")
    api_url: str = Field(default="https://api.telegram.org", description="the Bot API server")
    gateway_url: str = Field(
        default="http://127.0.0.1:8000", validation_alias="VERITEXT_GATEWAY_URL", description="the gateway it asks"
    )
    gateway_key: SecretStr | None = Field(default=None, description="an API key, when the gateway asks for one")
    rate_limit: str = Field(default="10/minute", description="texts one chat may send")
    max_file_bytes: int = Field(
        default=20_000_000, ge=1, description="the largest file it downloads (Telegram lets a bot fetch 20 MB)"
    )
    wait_s: float = Field(default=60.0, gt=0, description="how long it waits for a score before giving up")
