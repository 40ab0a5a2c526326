"""Settings of `veritext up` itself, from `VERITEXT_*` variables: where it keeps its data, how it
runs its children. Apart from up.py so that `veritext status` reads them without importing the
embedded services."""

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["UpSettings"]


class UpSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VERITEXT_", frozen=True, extra="ignore")

    data_dir: Path = Path("~/.veritext").expanduser()
    scorer_niceness: int = Field(default=10, ge=0, le=19)
    up_metrics_port: int = Field(default=9100, ge=0, le=65535, description="`up`'s own /metrics; 0 serves none")

    @property
    def addresses_path(self) -> Path:
        """Where `up` leaves the addresses every other command starts from (veritext/addresses.py)."""
        return self.data_dir.expanduser().resolve() / "up-addresses.json"

    @property
    def state_path(self) -> Path:
        """Where the supervisor records the components' state (read by `veritext status`)."""
        return self.data_dir.expanduser().resolve() / "up-state.json"
