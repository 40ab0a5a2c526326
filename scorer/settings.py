"""Scorer settings, from `VERITEXT_SCORER_*` variables (read by the composition root only)."""

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from scorer.detectors.registry import DetectorOptions
from stream.settings import WorkerSettings

__all__ = ["ScorerSettings"]


class ScorerSettings(WorkerSettings):
    model_config = SettingsConfigDict(env_prefix="VERITEXT_SCORER_", frozen=True, extra="ignore")

    detector: str = "probe"  # NAME, NAME@VERSION, or module:factory for a plug-in: the default detector
    # more detectors the deployment runs, comma-separated: `up` starts a scorer for each, which scores only
    # the submissions that name it (the `detector` field); the gateway lists them at GET /v1/detectors
    extra_detectors: str = ""
    # what the likelihood detectors read with (scorer/detectors/registry.py DetectorOptions)
    model: str = "packaged"  # the packaged gemma-3-270m, or a Hugging Face model id / local folder
    performer_model: str | None = None  # a second model sharing the tokenizer: Binoculars features
    calibration: Path | None = None  # an artifact from `veritext train-calibration`; None: the committed one
    probe: Path | None = None  # an artifact from `veritext train-probe`; None: the committed one
    device: str | None = None  # "cpu", "cuda", "cuda:1"; None: CUDA when available
    head_precision: Literal["auto", "fp32", "bf16"] = "auto"
    group_id: str = "veritext-scorer"
    max_batch: int = Field(default=256, ge=1, le=4096)  # texts: a cap; the token budget closes batches
    max_wait_ms: int = Field(default=50, ge=1)
    # a batch closes at this many estimated tokens, so a batch of long texts stays short on a CPU; on a GPU,
    # raise it: bench/gpu_bench.py measures which budget feeds it
    max_batch_tokens: int = Field(default=16_384, ge=256)
    # A batch must finish within this (a CPU batch of long texts takes tens of seconds). It does not delay
    # assignment: a joining scorer waits only until the busy one finishes its batch.
    max_poll_interval_ms: int = Field(default=300_000, ge=10_000)
    model_dir: Path = Path("~/.cache/veritext/models").expanduser()

    @property
    def detectors(self) -> list[str]:
        """Every detector spec the deployment runs, the default first."""
        extra = [spec.strip() for spec in self.extra_detectors.split(",") if spec.strip()]
        return [self.detector, *(spec for spec in extra if spec != self.detector)]

    def detector_options(self, **overrides: object) -> DetectorOptions:
        return DetectorOptions(
            model=self.model,
            performer=self.performer_model,
            calibration=self.calibration,
            probe=self.probe,
            device=self.device,
            head_precision=self.head_precision,
        ).replace(**overrides)
