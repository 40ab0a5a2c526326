"""What a detector reads of a long text: its first 10,000 characters at most, cut at a space."""

from scorer.scoring import estimated_tokens
from scorer.window import MAX_READ_CHARS, read_window


def test_a_text_within_the_limit_is_read_whole():
    text = "word " * (MAX_READ_CHARS // 5)
    assert len(text) == MAX_READ_CHARS
    assert read_window(text) == (text, None)


def test_a_long_text_is_read_up_to_the_last_space_before_the_limit():
    text = "abcdefghi " * 10_000  # 100,000 characters, a space every 10
    window = read_window(text)
    assert window.read_chars == MAX_READ_CHARS - 1 and window.text == text[: MAX_READ_CHARS - 1]
    assert not window.text.endswith(" ") and text[window.read_chars] == " "


def test_a_long_text_without_spaces_near_the_limit_is_cut_at_the_limit():
    text = "я" * 99_000
    assert read_window(text) == ("я" * MAX_READ_CHARS, MAX_READ_CHARS)


def test_a_long_text_costs_the_micro_batch_no_more_than_its_window():
    assert estimated_tokens(("я" * 99_000).encode()) == 2 * MAX_READ_CHARS // 4
    assert estimated_tokens(b"short text") == 2
