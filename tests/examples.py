"""The shell examples of the documentation as data: each ```console block of a page holds commands
(`$ ...`, continued by a trailing backslash) each followed by the answer it printed. `tests/test_docs.py`
runs them against a pipeline and compares the answers; with VERITEXT_RECORD_DOCS=1 it writes the
answers it got back into the page instead (re-recording after a change of the detector or the API)."""

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["Example", "answers_match", "learn_ids", "read_examples", "write_examples"]

_BLOCK = re.compile(r"^```console\n(.*?)^```\n", re.S | re.M)
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# what differs from run to run: compared by type only (ids are followed by `learn_ids` instead)
VOLATILE = {"submitted_at", "scored_at", "created_at", "finished_at", "content_hash", "latency_ms"}
ABRIDGED = "…"  # a value left out of the page: any answer matches it
TOLERANCE = 0.01  # probabilities on another CPU, another BLAS


@dataclass
class Example:
    command: str  # as the page shows it, continuation lines included
    answer: str  # the lines printed after it


def read_examples(page: Path) -> list[Example]:
    examples: list[Example] = []
    for block in _BLOCK.finditer(page.read_text(encoding="utf-8")):
        command: list[str] = []
        answer: list[str] = []
        for line in [*block.group(1).splitlines(), ""]:
            continued = bool(command) and not answer and command[-1].endswith("\\")
            if command and (line.startswith("$ ") or not line.strip()):
                examples.append(Example("\n".join(command), "\n".join(answer)))
                command, answer = [], []
            if line.startswith("$ ") or continued:
                command.append(line)
            elif line.strip():
                answer.append(line)
    return examples


def write_examples(page: Path, examples: list[Example]) -> None:
    """Put `examples` (same count and order as read) back into the page's console blocks."""
    found = iter(examples)

    def block(match: re.Match[str]) -> str:
        count = len([line for line in match.group(1).splitlines() if line.startswith("$ ")])
        body = "\n\n".join(f"{e.command}\n{e.answer}" for e in (next(found) for _ in range(count)))
        return f"```console\n{body}\n```\n"

    page.write_text(_BLOCK.sub(block, page.read_text(encoding="utf-8")), encoding="utf-8")


def shell_command(example: Example) -> str:
    """The command as bash takes it (the page's `$ ` prompts dropped)."""
    return example.command.removeprefix("$ ")


def learn_ids(recorded: Any, actual: Any, ids: dict[str, str]) -> None:
    """Where the recorded answer names an id, remember the id the actual answer has there."""
    if isinstance(recorded, dict) and isinstance(actual, dict):
        for key in recorded.keys() & actual.keys():
            learn_ids(recorded[key], actual[key], ids)
    elif isinstance(recorded, list) and isinstance(actual, list):
        for r, a in zip(recorded, actual, strict=False):
            learn_ids(r, a, ids)
    elif isinstance(recorded, str) and isinstance(actual, str):
        ids.update(zip(_UUID.findall(recorded), _UUID.findall(actual), strict=False))


def with_ids(text: str, ids: dict[str, str]) -> str:
    return _UUID.sub(lambda m: ids.get(m.group(0), m.group(0)), text)


def answers_match(recorded: Any, actual: Any, path: str = "") -> list[str]:
    """Where `actual` differs from the recorded answer (ids already followed), as readable paths."""
    if recorded == ABRIDGED:
        return []
    if path.rsplit(".", 1)[-1] in VOLATILE:
        return [] if type(recorded) is type(actual) else [f"{path}: {actual!r} is not like {recorded!r}"]
    if isinstance(recorded, dict) and isinstance(actual, dict):
        if recorded.keys() != actual.keys():
            return [f"{path}: keys {sorted(actual)} instead of {sorted(recorded)}"]
        return [d for k in recorded for d in answers_match(recorded[k], actual[k], f"{path}.{k}")]
    if isinstance(recorded, list) and isinstance(actual, list):
        if len(recorded) != len(actual):
            return [f"{path}: {len(actual)} items instead of {len(recorded)}"]
        pairs = enumerate(zip(recorded, actual, strict=True))
        return [d for n, (r, a) in pairs for d in answers_match(r, a, f"{path}[{n}]")]
    if isinstance(recorded, float) and isinstance(actual, float | int):
        return [] if abs(recorded - actual) <= TOLERANCE else [f"{path}: {actual} instead of {recorded}"]
    return [] if recorded == actual else [f"{path}: {actual!r} instead of {recorded!r}"]


def keep_abridged(recorded: Any, actual: Any) -> Any:
    """The actual answer, with what the page leaves out (`…`) still left out."""
    if recorded == ABRIDGED:
        return ABRIDGED
    if isinstance(recorded, dict) and isinstance(actual, dict):
        return {k: keep_abridged(recorded.get(k), v) for k, v in actual.items()}
    if isinstance(recorded, list) and isinstance(actual, list):
        return [keep_abridged(r, a) for r, a in zip(recorded + [None] * len(actual), actual, strict=False)]
    return actual


def as_line(answer: Any) -> str:
    """One line as the gateway prints it (UTF-8 where it can be; escaped where not: lone surrogates)."""
    line = json.dumps(answer, ensure_ascii=False, separators=(",", ":"))
    try:
        line.encode("utf-8")
    except UnicodeEncodeError:
        line = json.dumps(answer, separators=(",", ":"))
    return line
