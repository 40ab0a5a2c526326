"""Where the detector lab finds the labelled texts it fits and evaluates on (`veritext train-*`, the
tests that measure the shipped detector): `VERITEXT_LABELLED_DATA`, default `../shared/data` (beside the
repository), laid out as that folder's README describes."""

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["LabSettings"]


class LabSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VERITEXT_", frozen=True, extra="ignore")

    labelled_data: Path = Path("../shared/data")
