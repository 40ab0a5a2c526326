"""Look-alike letters of another script inside a word (Unicode TR39 confusables): what an attacker swaps
in so that a detector reads another text than people do ("model" with a Cyrillic o and e).

The table comes from the TR39 confusables data shipped by `confusable-homoglyphs`: for each letter of
the Latin, Cyrillic and Greek scripts, its single-letter look-alikes in the other two. A word that mixes
scripts has its minority letters mapped to the look-alike in the word's main script where one exists;
a word written in one script is never touched (a Russian text may quote an English name).
"""

import functools
import re
from dataclasses import dataclass

from confusable_homoglyphs import categories, confusables

__all__ = ["Lookalikes", "find_lookalikes"]

_SCRIPTS = ("LATIN", "CYRILLIC", "GREEK")
_RANGES = ((0x41, 0x5A), (0x61, 0x7A), (0xC0, 0x24F), (0x370, 0x3FF), (0x400, 0x4FF))
_WORD = re.compile(r"[^\W\d_]{2,}")


@dataclass(frozen=True)
class Lookalikes:
    """Where a text mixes scripts inside words: the replacements that restore each word's main script."""

    replacements: dict[int, str]  # character index -> the look-alike letter of the word's main script
    mixed_words: int  # words whose letters come from more than one script

    @property
    def letters(self) -> int:
        return len(self.replacements)


@functools.cache
def _table() -> dict[tuple[str, str], str]:
    """(letter, target script) -> the one letter of that script it looks like."""
    table: dict[tuple[str, str], str] = {}
    for low, high in _RANGES:
        for code in range(low, high + 1):
            letter = chr(code)
            script = _script(letter)
            if script is None:
                continue
            for found in confusables.is_confusable(letter, greedy=True) or []:
                for glyph in found["homoglyphs"]:
                    target = _script(glyph["c"]) if len(glyph["c"]) == 1 else None
                    if target and target != script:
                        table.setdefault((letter, target), glyph["c"])
    return table


def _script(char: str) -> str | None:
    if not char.isalpha():
        return None
    alias = categories.alias(char)
    return alias if alias in _SCRIPTS else None


def find_lookalikes(text: str) -> Lookalikes:
    """The look-alike letters of `text` (see the module docstring); nothing for single-script words."""
    table = _table()
    replacements: dict[int, str] = {}
    mixed = 0
    for match in _WORD.finditer(text):
        word = match.group()
        scripts = [_script(c) for c in word]
        counts = {s: scripts.count(s) for s in set(scripts) if s}
        if len(counts) < 2:
            continue
        mixed += 1
        main = _main_script(word, scripts)
        for offset, (char, script) in enumerate(zip(word, scripts, strict=True)):
            if script and script != main and (char, main) in table:
                replacements[match.start() + offset] = table[char, main]
    return Lookalikes(replacements, mixed)


def _main_script(word: str, scripts: list[str | None]) -> str:
    """The script with the most letters that have no look-alike elsewhere, then with the most letters."""

    def weight(script: str) -> tuple[int, int]:
        plain = sum(s == script and not _ambiguous(c) for c, s in zip(word, scripts, strict=True))
        return plain, scripts.count(script)

    return max((s for s in _SCRIPTS if s in scripts), key=weight)


def _ambiguous(char: str) -> bool:
    """Has a look-alike in another script (so it says little about which script a word is in)."""
    table = _table()
    return any((char, s) in table for s in _SCRIPTS)
