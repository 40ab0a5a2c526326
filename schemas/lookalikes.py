"""Look-alike letters of another script inside a word (Unicode TR39 confusables): what an attacker swaps
in so that a detector reads another text than people do ("model" with a Cyrillic o and e).

The table comes from the TR39 confusables data shipped by `confusable-homoglyphs`: for each letter of
the Latin, Cyrillic and Greek scripts, its single-letter look-alikes in the other two.

- A word that mixes scripts has its minority letters mapped to the look-alike in the word's main script
  where one exists (`mixed_words`, `letters`: the tampering signal).
- A word written wholly in look-alikes of the text's main script ("you" written in Cyrillic inside
  English, a lone Cyrillic "a") is mapped too (`whole_words`), when each of its letters looks like a letter of that
  script's own alphabet (basic Latin a-z, the Russian alphabet); a quoted name with any other letter ("Pepsi",
  "Moscow") is left as written. Not counted as tampering: a Russian text may quote "Coca".
"""

import functools
import re
from dataclasses import dataclass

from confusable_homoglyphs import categories, confusables

__all__ = ["Lookalikes", "find_lookalikes"]

_SCRIPTS = ("LATIN", "CYRILLIC", "GREEK")
_RANGES = ((0x41, 0x5A), (0x61, 0x7A), (0xC0, 0x24F), (0x370, 0x3FF), (0x400, 0x4FF))
_WORD = re.compile(r"[^\W\d_]+")
_CORE = {
    "LATIN": set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"),
    "CYRILLIC": set("абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ"),
}


@dataclass(frozen=True)
class Lookalikes:
    """Where a text mixes scripts inside words: the replacements that restore each word's main script."""

    replacements: dict[int, str]  # character index -> the look-alike letter of the word's main script
    mixed_words: int  # words whose letters come from more than one script
    letters: int  # letters replaced inside those words
    whole_words: int  # words wholly in look-alikes of the text's main script, replaced too


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


@functools.cache
def _script(char: str) -> str | None:
    if not char.isalpha():
        return None
    alias = categories.alias(char)
    return alias if alias in _SCRIPTS else None


def find_lookalikes(text: str) -> Lookalikes:
    """The look-alike letters of `text` (see the module docstring); nothing for single-script words."""
    if text.isascii() or len({_script(c) for c in set(text)} - {None}) < 2:
        return Lookalikes({}, 0, 0, 0)  # one script (most texts): no word can mix scripts or borrow another's
    table = _table()
    replacements: dict[int, str] = {}
    mixed = letters = whole = 0
    words = [(match.start(), match.group(), [_script(c) for c in match.group()]) for match in _WORD.finditer(text)]
    plain = [s for _, word, scripts in words for c, s in zip(word, scripts, strict=True) if s and not _ambiguous(c)]
    text_main = max(_SCRIPTS, key=plain.count) if plain else None
    for start, word, scripts in words:
        present = {s for s in scripts if s}
        if len(present) >= 2:
            mixed += 1
            main = _main_script(word, scripts, text_main)
            for offset, (char, script) in enumerate(zip(word, scripts, strict=True)):
                if script and script != main and (char, main) in table:
                    replacements[start + offset] = table[char, main]
                    letters += 1
        elif text_main in _CORE and present and present != {text_main}:
            mapped = [table.get((c, text_main)) for c in word]
            if all(m is not None and m in _CORE[text_main] for m in mapped):
                whole += 1
                replacements.update({start + i: m for i, m in enumerate(mapped) if m is not None})
    return Lookalikes(replacements, mixed, letters, whole)


def _main_script(word: str, scripts: list[str | None], text_main: str | None) -> str:
    """The script with the most letters that have no look-alike elsewhere, then the text's main script,
    then the one with the most letters."""

    def weight(script: str) -> tuple[int, bool, int]:
        plain = sum(s == script and not _ambiguous(c) for c, s in zip(word, scripts, strict=True))
        return plain, script == text_main, scripts.count(script)

    return max((s for s in _SCRIPTS if s in scripts), key=weight)


@functools.cache
def _ambiguous(char: str) -> bool:
    """Has a look-alike in another script (so it says little about which script a word is in)."""
    table = _table()
    return any((char, s) in table for s in _SCRIPTS)
