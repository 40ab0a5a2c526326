"""What every fitted detector artifact shares (calibration_model.py, probe_model.py): a frozen JSON
document committed beside the code, whose SHA-256 goes into the detector version, read back with its
own checks, each failure a `DetectorError` that names the file."""

import hashlib
from pathlib import Path
from typing import ClassVar, Self

from pydantic import BaseModel, ConfigDict, ValidationError

from schemas.errors import DetectorError

__all__ = ["Artifact"]


class Artifact(BaseModel):
    model_config = ConfigDict(frozen=True)

    KIND: ClassVar[str] = "artifact"  # what error messages call it

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.model_dump_json(indent=1) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Self:
        try:
            artifact = cls.model_validate_json(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValidationError) as exc:
            raise DetectorError(f"cannot read the {cls.KIND} {path}: {exc}") from exc
        problem = artifact.problem()
        if problem:
            raise DetectorError(f"the {cls.KIND} {path} {problem}")
        return artifact

    def problem(self) -> str | None:
        """What makes this artifact unusable although it parsed (None: nothing)."""
        return None
