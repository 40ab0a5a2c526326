"""How much of a long text a detector reads: a window from its start, at most `MAX_READ_CHARS`.

A text may hold up to 100,000 characters (the event ceiling), about 25,000 tokens: read whole, one such
text keeps a CPU scorer busy for a minute and every short text behind it waits. So every detector reads
at most the first `MAX_READ_CHARS` characters, cut at the last space before the limit (at the limit when
there is none near it), and the score states where the reading stopped (`read_chars`); its segments
cover that window. 10,000 characters are about 2,200 English tokens (a long essay, 2-3 s on 2 CPU cores)
and more than twice the longest text any shipped detector was fitted or evaluated on (4,794 characters),
so no reported number and no version changes; a longer text is judged by its first 10,000 characters.

The scorer (live and replay), `veritext eval` and the Python API all read through `read_window`.
"""

from typing import NamedTuple

__all__ = ["MAX_READ_CHARS", "Window", "read_window"]

MAX_READ_CHARS = 10_000
_NEAR = MAX_READ_CHARS * 9 // 10  # a space before this is too far back: cut at the limit instead


class Window(NamedTuple):
    text: str  # what the detector reads
    read_chars: int | None  # where the reading stopped in the text; None: it read the whole text


def read_window(text: str) -> Window:
    """The part of `text` a detector reads."""
    if len(text) <= MAX_READ_CHARS:
        return Window(text, None)
    head = text[: MAX_READ_CHARS + 1]  # a space right after the limit still ends a whole word
    cut = max(head.rfind(" "), head.rfind("\n"), head.rfind("\t"))
    cut = cut if cut >= _NEAR else MAX_READ_CHARS
    return Window(text[:cut], cut)
