"""Which language a text is in, as the detector's calibration needs it: "en", "ru" or "other".

`py3langid` (langid.py's maintained fork: a small naive-Bayes model over byte n-grams that ships in the
package, no download, about a millisecond per text) ranks the candidate languages. Only English and
Russian have their own calibration, so every other answer is "other". Texts with no letters at all
(numbers, symbols) are "other" too.
"""

from py3langid.langid import MODEL_FILE, LanguageIdentifier

__all__ = ["Language", "detect_language"]

Language = str  # "en", "ru" or "other"

_CALIBRATED = ("en", "ru")
_identifier = LanguageIdentifier.from_model_file(MODEL_FILE)


def detect_language(text: str) -> Language:
    """The language of `text`: "en", "ru" or "other"."""
    if not any(ch.isalpha() for ch in text):
        return "other"
    lang, _ = _identifier.classify(text)
    return lang if lang in _CALIBRATED else "other"
