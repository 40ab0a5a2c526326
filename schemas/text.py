"""The one intake rule for a submitted text, shared by every door (the gateway's routes and batches,
bulk files, the RabbitMQ bridge), so the same input gets the same answer everywhere.

`clean_text` either returns the text to store and score, with the list of what it changed (recorded
on the submission as `normalised`), or raises `TextRejected` with a reason the caller turns into a 422,
a rejects-file line or a dead letter:

- a lone surrogate (U+D800..U+DFFF alone: valid JSON, not Unicode text): rejected, it cannot be stored
  or read back as UTF-8;
- NUL and the other control characters (C0, DEL, C1) except tab, line feed and carriage return: removed;
- invisible format characters (zero-width space and joiners, word joiner, BOM, soft hyphen, bidi
  controls): removed; they are also a known way to make a detector read another text than people do;
- a text not in Unicode NFC (decomposed accents): normalised to NFC (compatibility forms stay);
- look-alike letters of another script inside words (lookalikes.py: "model" with a Cyrillic o and e):
  counted, not changed (the text is stored as sent); the detector reads them as the word's own letters
  (reading.py);
- nothing but whitespace once cleaned: rejected.

Invisible characters and look-alike letters are what a person does not type and an evader does: their
notes are the submission's tampering signal (`tampering_notes`).

Length limits are the caller's (each door has its own setting and status code), checked on the cleaned
text.
"""

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated

from pydantic import AfterValidator

from schemas.lookalikes import find_lookalikes

__all__ = ["CleanText", "PlainStr", "TextRejected", "check_plain", "clean_text", "tampering_notes", "too_long"]

_INVISIBLE_NOTE = "removed {n} invisible character{s}"
_LOOKALIKE_NOTE = "found {n} look-alike letter{s} of another script in {words} word{ws}"
_TAMPERING = re.compile(r"removed \d+ invisible character|found \d+ look-alike letter")

_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_INVISIBLE = re.compile("[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")


class TextRejected(ValueError):
    """The text cannot be accepted as it is; the message says why."""


_NOT_PLAIN = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def check_plain(value: str) -> str:
    """`value` if it holds no control character and no lone surrogate, else `TextRejected` naming it."""
    found = _NOT_PLAIN.search(value)
    if found:
        raise TextRejected(
            f"contains the control character or lone surrogate U+{ord(found.group()):04X} at character "
            f"{found.start()}: ids, codes and names must be plain text"
        )
    return value


PlainStr = Annotated[str, AfterValidator(check_plain)]


@dataclass(frozen=True)
class CleanText:
    text: str
    changes: tuple[str, ...]  # what was changed, for the submission's `normalised` record


def clean_text(text: str) -> CleanText:
    surrogate = _SURROGATE.search(text)
    if surrogate:
        raise TextRejected(
            f"text contains a lone surrogate U+{ord(surrogate.group()):04X} at character {surrogate.start()}: "
            "not valid Unicode; send the text as UTF-8"
        )
    changes = []
    text, controls = _CONTROL.subn("", text)
    if controls:
        changes.append(f"removed {controls} control character{'s' * (controls > 1)}")
    text, invisible = _INVISIBLE.subn("", text)
    if invisible:
        changes.append(_INVISIBLE_NOTE.format(n=invisible, s="s" * (invisible > 1)))
    normal = unicodedata.normalize("NFC", text)
    if normal != text:
        changes.append("normalised to Unicode NFC")
    if not normal.strip():
        raise TextRejected("text must contain at least one non-whitespace character")
    lookalikes = find_lookalikes(normal)
    if lookalikes.letters:
        words = lookalikes.mixed_words
        n = lookalikes.letters
        changes.append(_LOOKALIKE_NOTE.format(n=n, s="s" * (n > 1), words=words, ws="s" * (words > 1)))
    return CleanText(normal, tuple(changes))


def too_long(text: str, max_chars: int) -> str | None:
    """Why `text` is refused for its length at every intake (a 413, a rejected line, a dead letter), or None."""
    if len(text) > max_chars:
        return f"text has {len(text)} characters; the maximum is {max_chars}"
    return None


def tampering_notes(notes: Iterable[str]) -> list[str]:
    """The notes of a submission's `normalised` record that are evidence of tampering: invisible
    characters removed, look-alike letters found."""
    return [note for note in notes if _TAMPERING.match(note)]
