"""What the detector reads of a text (schemas/reading.py) and the look-alike letters the intake rule
reports (schemas/lookalikes.py): layout never changes the reading, look-alikes are read as the word's own
letters, and every read character maps back to the stored text."""

import random

from lab.attacks import lookalikes, paragraphs
from schemas.lookalikes import find_lookalikes
from schemas.reading import read_text
from schemas.text import clean_text, tampering_notes

PROSE = (
    "The committee met on Tuesday to discuss the budget for the new library. Members agreed to postpone "
    "the vote. Several residents asked for longer opening hours on weekends. The chair promised an answer."
)
RUSSIAN = "Комитет собрался во вторник, чтобы обсудить бюджет новой библиотеки. Голосование отложили."
CYRILLIC_O, CYRILLIC_E = "\u043e", "\u0435"


def test_layout_does_not_change_the_reading() -> None:
    laid_out = paragraphs(PROSE, random.Random(1))
    assert "\n\n" in laid_out
    markdown = "# Minutes\n\n" + PROSE.replace("Members", "\n- **Members**").replace("Several", "\n* Several")
    assert read_text(laid_out).text == read_text(PROSE).text == PROSE
    assert read_text(markdown).text == "Minutes " + PROSE
    assert read_text("  \tTabs,\r\n\r\nbreaks  and   runs  ").text == "Tabs, breaks and runs"


def test_look_alike_letters_are_read_as_the_words_own_and_counted() -> None:
    attacked = lookalikes(PROSE, random.Random(3), share=0.3)
    assert attacked != PROSE
    reading = read_text(attacked)
    assert reading.text == PROSE and reading.lookalikes > 0 and reading.mixed_words > 0
    russian = lookalikes(RUSSIAN, random.Random(4), share=0.3)
    assert russian != RUSSIAN and read_text(russian).text == RUSSIAN
    quoted = "Он сказал: Pepsi и Moscow. " + RUSSIAN  # a quoted name with letters of its own stays
    assert read_text(quoted).text == quoted and find_lookalikes(quoted).letters == 0
    you = "Thank " + "\u0443\u043eu" + " for " + "\u0430" + " reply, and see you soon at the station."
    assert read_text(you).text == "Thank you for a reply, and see you soon at the station."
    coca = "Он сказал: Coca. " + RUSSIAN  # a quote made only of look-alikes is read as Russian, not counted
    assert find_lookalikes(coca).letters == 0 and find_lookalikes(coca).whole_words == 1


def test_random_case_inside_a_word_is_lowered_but_capitals_and_names_stay() -> None:
    reading = read_text("tHe modEl of the NATO summit in Paris")
    assert reading.text == "the model of the NATO summit in Paris" and reading.odd_case_words == 2


def test_every_read_character_maps_back_to_the_stored_text() -> None:
    stored = "# Title\n\n**Bold** words,\n\n- an item\n- m" + CYRILLIC_O + "del and tHe end.  "
    reading = read_text(stored)
    assert len(reading.origin) == len(reading.text) + 1 and reading.origin[-1] == len(stored)
    for i, char in enumerate(reading.text):
        source = stored[reading.origin[i]]
        assert source in (char, CYRILLIC_O) or source.isspace() or char.lower() == source.lower()
    assert list(reading.origin) == sorted(reading.origin)


def test_intake_reports_look_alikes_and_invisible_characters_as_tampering() -> None:
    cleaned = clean_text("The m" + CYRILLIC_O + "d" + CYRILLIC_E + "l was\u200b trained.")
    assert cleaned.text == "The m" + CYRILLIC_O + "d" + CYRILLIC_E + "l was trained."  # stored as sent
    assert cleaned.changes == (
        "removed 1 invisible character",
        "found 2 look-alike letters of another script in 1 word",
    )
    assert tampering_notes([*cleaned.changes, "normalised to Unicode NFC"]) == list(cleaned.changes)
    assert tampering_notes(clean_text(PROSE).changes) == []
