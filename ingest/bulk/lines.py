"""Split a byte stream into numbered lines without ever holding more than one bounded line.

Used for files and for the HTTP NDJSON body alike: chunks go in, complete lines come out. A line
longer than `max_bytes` is not kept; it comes out with `data=None`, so the caller can reject it
by number while its bytes are dropped as they arrive.
"""

from dataclasses import dataclass

__all__ = ["Line", "LineSplitter"]


@dataclass(frozen=True, slots=True)
class Line:
    number: int  # 1-based
    data: bytes | None  # without the line break; None when the line was over the limit


class LineSplitter:
    def __init__(self, max_bytes: int) -> None:
        self._max = max_bytes
        self._tail: list[bytes] = []
        self._tail_len = 0
        self._oversized = False
        self._number = 0

    def feed(self, chunk: bytes) -> list[Line]:
        """The lines that `chunk` completes."""
        parts = chunk.split(b"\n")
        lines = []
        for part in parts[:-1]:
            lines.append(self._complete(part))
        last = parts[-1]
        if not self._oversized:
            if self._tail_len + len(last) > self._max:
                self._oversized, self._tail, self._tail_len = True, [], 0
            elif last:
                self._tail.append(last)
                self._tail_len += len(last)
        return lines

    def end(self) -> list[Line]:
        """The last line, when the stream does not end with a line break."""
        if self._oversized or self._tail_len:
            return [self._complete(b"")]
        return []

    def _complete(self, part: bytes) -> Line:
        self._number += 1
        if self._oversized or self._tail_len + len(part) > self._max:
            line = Line(self._number, None)
        else:
            line = Line(self._number, b"".join((*self._tail, part)) if self._tail else part)
        self._tail, self._tail_len, self._oversized = [], 0, False
        return line
