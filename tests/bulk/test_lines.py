"""The line splitter on its own (no services): lines split across chunks come out whole and
numbered, and a line over the limit comes out as a number without its bytes."""

from ingest.bulk.lines import Line, LineSplitter


def _split(chunks: list[bytes], max_bytes: int) -> list[Line]:
    splitter = LineSplitter(max_bytes)
    lines = [line for chunk in chunks for line in splitter.feed(chunk)]
    return lines + splitter.end()


def test_lines_split_across_chunks_come_out_whole():
    body = b'{"text": "one"}\n\n{"text": "two"}\r\nlast'
    for size in (1, 2, 5, len(body)):
        chunks = [body[i : i + size] for i in range(0, len(body), size)]
        assert _split(chunks, 100) == [
            Line(1, b'{"text": "one"}'),
            Line(2, b""),
            Line(3, b'{"text": "two"}\r'),
            Line(4, b"last"),
        ]


def test_a_line_over_the_limit_is_numbered_but_not_kept():
    chunks = [b"short\n", b"x" * 6, b"x" * 6, b"x\nok\n", b"y" * 20]
    assert _split(chunks, 10) == [Line(1, b"short"), Line(2, None), Line(3, b"ok"), Line(4, None)]
    assert _split([b"exactly 10"], 10) == [Line(1, b"exactly 10")]
    assert _split([b"a\n"], 10) == [Line(1, b"a")], "a final line break ends the last line"
