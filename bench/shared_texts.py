"""Benchmark inputs: the first texts of a shared/data file, cut to a fixed number of words; or a spread of
lengths from the test split of all of shared/data."""

import json
from pathlib import Path

from lab.dataset import LabelledText, read_labelled, sample

__all__ = ["DATA", "XSUM", "load_texts", "test_split_spread"]

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
XSUM = DATA / "en" / "xsum.jsonl"


def load_texts(path: Path, n: int, words: int) -> list[str]:
    """The first `n` texts of `path` with at least `words` words, each cut to `words` words."""
    texts = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            tokens = json.loads(line)["text"].split()
            if len(tokens) >= words:
                texts.append(" ".join(tokens[:words]))
            if len(texts) == n:
                return texts
    raise SystemExit(f"{path} has fewer than {n} texts of {words} words")


def test_split_spread(n: int) -> list[LabelledText]:
    """`n` records of the test split (4 per language, domain and label), shortest first, evenly spread
    over their lengths."""
    records = sample(list(read_labelled([DATA])), "test", 4)
    return sorted(records, key=lambda r: len(r.text))[:: max(1, len(records) // n)][:n]
