"""The rejects file: one JSON object per rejected input line, `{"line", "reason", "input"}`, where
`input` is the start of what was read (at most 500 characters) so a user can find and fix it.

The file is replaced on every run and removed again when nothing was rejected.
"""

import json
from pathlib import Path
from typing import Any

__all__ = ["RejectsFile"]

_EXCERPT_CHARS = 500


def _excerpt(raw: Any) -> str | None:
    if raw is None:
        return None
    if isinstance(raw, bytes):
        raw = raw[: _EXCERPT_CHARS * 4].decode("utf-8", errors="replace")
    elif not isinstance(raw, str):
        raw = json.dumps(raw, ensure_ascii=False, default=str)
    return raw[:_EXCERPT_CHARS]


class RejectsFile:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.count = 0
        self._file = open(path, "w", encoding="utf-8")  # noqa: SIM115 (closed by close())

    def add(self, line: int, reason: str, raw: Any = None) -> None:
        record = {"line": line, "reason": reason, "input": _excerpt(raw)}
        self._file.write(json.dumps(record, ensure_ascii=False) + "\n")
        self.count += 1

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()
            if self.count == 0:
                self.path.unlink(missing_ok=True)

    def __enter__(self) -> "RejectsFile":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
