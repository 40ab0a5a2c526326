"""Labelled texts for calibration and evaluation, and their leak-free train/validation/test split.

Records are JSON Lines `{"text": ..., "label": "human"|"machine", ...}` with optional `id`, `lang`,
`domain`, `generator`, `pair_id`, `group_id` (the layout of `shared/data/`, see its README).

**The split** is a committed rule, not a stored list: a record goes to a split by the SHA-256 of
`SPLIT_SALT` and its split key, read as a number in [0, 1): train below 0.6, validation below 0.8,
test above. The key is the record's `group_id` (the source document: in `shared/data/en` the same
document appears in several pairs and every machine text opens with ~20 words of its human pair, so a
document's texts must all land in one split), else its `pair_id`, else its `id` (the unpaired Russian
files). The rule gives the same split on every machine and for every subset of the files.
"""

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from schemas.verdict import Label

__all__ = [
    "SPLIT_SALT",
    "TRAIN_PER_CELL",
    "VALIDATION_PER_CELL",
    "LabelledText",
    "Split",
    "data_hash",
    "read_labelled",
    "sample",
    "split_of",
]

SPLIT_SALT = "veritext-split-v1"
TRAIN_PER_CELL = 100
VALIDATION_PER_CELL = 100
Split = Literal["train", "validation", "test"]
_BOUNDS: tuple[tuple[float, Split], ...] = ((0.6, "train"), (0.8, "validation"))


class LabelledText(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    text: str = Field(min_length=1)
    label: Label
    id: str | None = None
    lang: str | None = None
    domain: str | None = None
    generator: str | None = None
    pair_id: str | None = None
    group_id: str | None = None
    attack: str | None = None  # more/: the paraphrase or perturbation applied to the text

    @property
    def split_key(self) -> str:
        return self.group_id or self.pair_id or self.id or hashlib.sha256(self.text.encode()).hexdigest()


def split_of(record: LabelledText) -> Split:
    digest = hashlib.sha256(f"{SPLIT_SALT}|{record.split_key}".encode()).digest()
    position = int.from_bytes(digest[:8], "big") / 2**64
    return next((name for bound, name in _BOUNDS if position < bound), "test")


def read_labelled(paths: list[Path]) -> Iterator[LabelledText]:
    """Records of JSONL files (or folders of them); raises ValueError naming the bad file and line."""
    for path in paths:
        files = sorted(path.rglob("*.jsonl")) if path.is_dir() else [path]
        for file in files:
            with file.open(encoding="utf-8") as handle:
                for number, line in enumerate(handle, 1):
                    if not line.strip():
                        continue
                    try:
                        yield LabelledText.model_validate(json.loads(line))
                    except (json.JSONDecodeError, ValidationError) as exc:
                        raise ValueError(f"{file}:{number}: not a labelled text record: {exc}") from exc


def data_hash(records: list[LabelledText]) -> str:
    """SHA-256 over the (label, text) pairs in order: names exactly the data a calibration saw."""
    digest = hashlib.sha256()
    for record in records:
        digest.update(f"{record.label}\0{record.text}\0".encode())
    return digest.hexdigest()


def sample(records: list[LabelledText], split: Split, per_cell: int) -> list[LabelledText]:
    """Up to `per_cell` records of `split` for each (lang, domain, label), one per source document.

    Deterministic: records are taken in the order of the SHA-256 of their id (or text). One text per
    `group_id` and label keeps the near-identical human copies of a document from filling a cell.
    """
    cells: dict[tuple[str | None, str | None, str], list[LabelledText]] = {}
    seen: set[tuple[str, str]] = set()
    for record in sorted(records, key=_order):
        if split_of(record) != split or (record.split_key, record.label) in seen:
            continue
        cell = cells.setdefault((record.lang, record.domain, record.label), [])
        if len(cell) < per_cell:
            cell.append(record)
            seen.add((record.split_key, record.label))
    return [record for cell in cells.values() for record in cell]


def _order(record: LabelledText) -> str:
    return hashlib.sha256(f"{SPLIT_SALT}|{record.id or record.text}".encode()).hexdigest()
