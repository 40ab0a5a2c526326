"""The rules that turn one row of fields into a submission event, or into the reason it is rejected.

The text comes from `text_field` (a non-blank string, cleaned by the intake rule of schemas/text.py,
of at most `max_chars` characters), the
external id from `id_field` when one is named (a string or a number, required on every row then),
and the language from the row's `lang` field when it has one, else the run's default.
"""

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from pydantic import ValidationError

from schemas.events import MAX_TEXT_CHARS, SubmissionEvent
from schemas.text import TextRejected, clean_text, too_long

__all__ = ["LANG_FIELD", "RecordRules", "random_ids"]

LANG_FIELD = "lang"
_MAX_ID_CHARS = 256
_MAX_LANG_CHARS = 16


def random_ids(n: int) -> list[UUID]:
    """`n` random (version 4) UUIDs as `uuid.uuid4` makes them, from one read of the system's random
    source. A read per line let go of the GIL once per line, and with the recording thread holding it
    each line then waited to get it back (16% of the ingest's main thread in a profile; +3-5% events/s
    measured, docs/benchmarks.md)."""
    raw = os.urandom(16 * n)
    return [UUID(bytes=raw[i : i + 16], version=4) for i in range(0, len(raw), 16)]


@dataclass(frozen=True)
class RecordRules:
    text_field: str = "text"
    id_field: str | None = None
    lang: str | None = None  # the default language
    max_chars: int = MAX_TEXT_CHARS

    @property
    def lang_field(self) -> str:
        return LANG_FIELD

    def event(self, fields: Mapping[str, Any], batch_id: UUID, submission_id: UUID) -> SubmissionEvent | str:
        """The event for `fields` (its id `submission_id`), or why there is none."""
        text = fields.get(self.text_field)
        if text is None:
            return f"no {self.text_field!r} field"
        if not isinstance(text, str):
            return f"{self.text_field!r} is a {type(text).__name__}, not a string"
        if not text.strip():
            return f"{self.text_field!r} is empty"
        try:
            cleaned = clean_text(text)
        except TextRejected as exc:
            return f"{self.text_field!r}: {exc}"
        if reason := too_long(cleaned.text, self.max_chars):
            return reason
        external_id = None
        if self.id_field is not None:
            value = fields.get(self.id_field)
            if value is None or value == "" or isinstance(value, bool) or not isinstance(value, str | int):
                return f"no {self.id_field!r} value (a string or a whole number)"
            external_id = str(value)
            if len(external_id) > _MAX_ID_CHARS:
                return f"{self.id_field!r} has more than {_MAX_ID_CHARS} characters"
        lang = fields.get(LANG_FIELD) or self.lang
        if lang is not None and (not isinstance(lang, str) or len(lang) > _MAX_LANG_CHARS):
            return f"{LANG_FIELD!r} must be a language code of at most {_MAX_LANG_CHARS} characters"
        try:
            return SubmissionEvent(
                submission_id=submission_id,
                text=cleaned.text,
                normalised=list(cleaned.changes),
                lang=lang,
                external_id=external_id,
                source="bulk",
                batch_id=batch_id,
            )
        except ValidationError as exc:
            return "; ".join(error["msg"] for error in exc.errors())
