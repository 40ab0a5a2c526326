"""Texts made harder, for measuring a detector the way its users and evaders meet it: cheap
character-level attacks, paragraph breaks, and co-written texts (a human passage and a machine one).

Every attack takes a seeded `random.Random`, so a benchmark run is repeatable:

- `lookalikes`: a share of the letters that have a look-alike in the other script (Latin <-> Cyrillic)
  swapped for it;
- `misspell`: a share of the words (4 letters or more) get two inner letters swapped or one dropped;
- `stray_spaces`: a share of the words (4 letters or more) split by a space;
- `flip_case`: a share of the words get one letter's case flipped;
- `paragraphs`: a blank line after every second sentence;
- `cowrite`: a human passage and a machine passage, each cut at a sentence end to `words` words,
  joined by a space in the given order; returns the text and the machine passage's character span.

`typos` is for training, not measuring: the probe is fitted on copies of some texts of both labels with
typos of another kind (a neighbouring key struck, a letter doubled, two words run together), so that
typos say nothing about who wrote a text, and the benchmark's attacks above stay ones it never saw.
"""

import random
import re

from scorer.detectors.segments import sentence_ends

__all__ = [
    "ATTACKS",
    "cowrite",
    "first_words",
    "flip_case",
    "lookalikes",
    "misspell",
    "paragraphs",
    "stray_spaces",
    "typos",
]

_LATIN_CYRILLIC = dict(zip("aceopxyABCEHKMOPTX", "асеорхуАВСЕНКМОРТХ", strict=True))
_SWAP = _LATIN_CYRILLIC | {v: k for k, v in _LATIN_CYRILLIC.items()}
_WORD = re.compile(r"[^\W\d_]{4,}")
_ANY_WORD = re.compile(r"[^\W\d_]+")


def lookalikes(text: str, rng: random.Random, share: float = 0.15) -> str:
    return "".join(_SWAP[c] if c in _SWAP and rng.random() < share else c for c in text)


def misspell(text: str, rng: random.Random, share: float = 0.08) -> str:
    def change(match: re.Match[str]) -> str:
        word = match.group()
        if rng.random() >= share:
            return word
        at = rng.randrange(1, len(word) - 2)
        if rng.random() < 0.5:
            return word[:at] + word[at + 1] + word[at] + word[at + 2 :]
        return word[:at] + word[at + 1 :]

    return _WORD.sub(change, text)


def stray_spaces(text: str, rng: random.Random, share: float = 0.05) -> str:
    def split(match: re.Match[str]) -> str:
        word = match.group()
        if rng.random() >= share:
            return word
        at = rng.randrange(1, len(word) - 1)
        return f"{word[:at]} {word[at:]}"

    return _WORD.sub(split, text)


def flip_case(text: str, rng: random.Random, share: float = 0.1) -> str:
    def flip(match: re.Match[str]) -> str:
        word = match.group()
        if rng.random() >= share:
            return word
        at = rng.randrange(len(word))
        return word[:at] + word[at].swapcase() + word[at + 1 :]

    return _ANY_WORD.sub(flip, text)


_KEY_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm", "йцукенгшщзхъ", "фывапролджэ", "ячсмитьбю")
_NEIGHBOURS = {row[i]: row[max(0, i - 1) : i] + row[i + 1 : i + 2] for row in _KEY_ROWS for i in range(len(row))}
_WORD_AFTER_SPACE = re.compile(r"(?<=[^\W\d_]) (?=[^\W\d_]{3,})|[^\W\d_]{3,}")


def typos(text: str, rng: random.Random, share: float = 0.06) -> str:
    """A share of the words (3 letters or more) get one typo: a neighbouring key for one lower-case
    letter, a letter doubled, or the space before them dropped."""

    def change(match: re.Match[str]) -> str:
        word = match.group()
        if rng.random() >= share:
            return word
        if word == " ":
            return ""
        at = rng.randrange(len(word))
        if word[at] in _NEIGHBOURS and rng.random() < 0.5:
            return word[:at] + rng.choice(_NEIGHBOURS[word[at]]) + word[at + 1 :]
        return word[: at + 1] + word[at:]

    return _WORD_AFTER_SPACE.sub(change, text)


def paragraphs(text: str, rng: random.Random, lang: str = "en") -> str:
    ends = sentence_ends(text, lang)
    pieces, start = [], 0
    for i, end in enumerate(ends):
        pieces.append(text[start:end].strip())
        pieces.append("\n\n" if i % 2 == 1 else " ")
        start = end
    return "".join(pieces).strip()


ATTACKS = {
    "lookalikes 15%": lookalikes,
    "misspellings 8%": misspell,
    "stray spaces 5%": stray_spaces,
    "case flips 10%": flip_case,
}


def first_words(text: str, lang: str, words: int) -> str:
    """The text's first sentences, up to about `words` words (at least one sentence)."""
    start, kept = 0, list[str]()
    for end in sentence_ends(text, lang):
        sentence = text[start:end].strip()
        start = end
        if kept and len(" ".join(kept).split()) + len(sentence.split()) > words:
            break
        kept.append(sentence)
    return " ".join(kept)


def cowrite(
    human: str, machine: str, lang: str, *, machine_first: bool, words: int = 90
) -> tuple[str, tuple[int, int]]:
    """A co-written text and the character span of its machine passage."""
    h, m = first_words(human, lang, words), first_words(machine, lang, words)
    if machine_first:
        return f"{m} {h}", (0, len(m))
    return f"{h} {m}", (len(h) + 1, len(h) + 1 + len(m))
