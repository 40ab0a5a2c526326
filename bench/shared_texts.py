"""Benchmark inputs: the first texts of a shared/data file, cut to a fixed number of words."""

import json
from pathlib import Path

__all__ = ["XSUM", "load_texts"]

XSUM = Path(__file__).resolve().parents[2] / "shared" / "data" / "en" / "xsum.jsonl"


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
