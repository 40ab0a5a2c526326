"""What a detector reads of a stored text: its words, without the layout and without the look-alike
letters, with a map back to the stored text's characters so segments are shown where the user wrote them.

Layout must not decide a verdict: human text with paragraphs (e-mails, essays, posts) is what users
submit, and in several training sources only the machine side kept its line breaks. So the reading
drops what only layout or an attacker changes:

- Markdown markers: a heading's `#`s, a quote's `>` and a bullet (`-`, `*`, `+`, `•`, ...) at the start
  of a line, and `**` / `__` emphasis anywhere;
- whitespace: every run of spaces, tabs and line breaks becomes one space, none at either end;
- look-alike letters of another script inside a word, or whole words of them (lookalikes.py), become
  the letters of the word's (the text's) own script;
- random case inside a word ("tHe", "modEl") is lowered after its first letter; words in capitals,
  capitalised or lower case are kept.

`read_text` is the one rule: the scorer, `veritext eval` and the probe's training all read through it,
after the intake rule (text.py) every door applies. What it changed is counted (`Reading`): look-alike
letters and mixed-script words are the tampering signal the intake rule reports.
"""

import re
from dataclasses import dataclass

from schemas.lookalikes import find_lookalikes

__all__ = ["Reading", "read_text"]

_LINE_MARKER = re.compile(r"(?m)^[ \t]*(?:#{1,6}(?=\s)|>+|[-*+\u2022\u25cf\u25aa\u2023\u25e6\u2013\u2014](?=\s))")
_EMPHASIS = re.compile(r"\*\*|__")
_SPACE = re.compile(r"\s+")
_ODD_CASE = re.compile(r"\b[^\W\d_][a-zа-яё]*[A-ZА-ЯЁ][^\W\d_]*\b")


@dataclass(frozen=True)
class Reading:
    text: str  # what the model reads
    origin: tuple[int, ...]  # stored-text index of each read character, then len(stored text)
    lookalikes: int  # letters mapped back to their word's (or, for whole words, the text's) script
    mixed_words: int  # words that mixed scripts
    odd_case_words: int  # words whose case was lowered inside

    def source_span(self, start: int, end: int) -> tuple[int, int]:
        """The stored-text span of the read characters [start, end)."""
        return self.origin[start], (self.origin[end - 1] + 1 if end > start else self.origin[start])


def read_text(text: str) -> Reading:
    """The reading of `text` (see the module docstring)."""
    dropped = bytearray(len(text))
    for pattern in (_LINE_MARKER, _EMPHASIS):
        for match in pattern.finditer(text):
            dropped[match.start() : match.end()] = b"\x01" * (match.end() - match.start())
    lookalikes = find_lookalikes(text)
    chars: list[str] = []
    origin: list[int] = []
    space_at = -1  # where the pending run of whitespace began, -1 when none is pending
    for index, char in enumerate(text):
        if dropped[index]:
            continue
        if char.isspace():
            if chars and space_at < 0:
                space_at = index
            continue
        if space_at >= 0:
            chars.append(" ")
            origin.append(space_at)
            space_at = -1
        chars.append(lookalikes.replacements.get(index, char))
        origin.append(index)
    read = "".join(chars)
    odd = 0

    def lowered(match: re.Match[str]) -> str:
        nonlocal odd
        word = match.group()
        if word.isupper() or word[1:].islower():
            return word
        odd += 1
        return word[0] + word[1:].lower()

    read = _ODD_CASE.sub(lowered, read)  # same length: the origin map still holds
    return Reading(read, (*origin, len(text)), len(lookalikes.replacements), lookalikes.mixed_words, odd)
