"""Documents to text, format by format, with where each page or paragraph starts, and every file that
cannot be read refused with its reason (the kind read from the bytes, never from the name)."""

import pytest

from ingest.documents.extract import MAX_UNPACKED_BYTES, DocumentRejected, extract
from schemas.documents import part_at
from schemas.errors import TooLarge
from tests.documents.files import docx_bytes, odt_bytes, pdf_bytes, zip_bomb


def test_a_pdf_is_read_page_by_page_and_a_segment_names_its_page():
    found = extract(pdf_bytes(["The first page.\nIts second line.", "", "The third page."]), "essay.pdf")
    assert found.media_type == "application/pdf"
    assert found.text == "The first page.\nIts second line.\n\nThe third page."
    assert [p.label for p in found.parts] == ["page 1", "page 3"], "a page without text is left out"
    assert part_at(found.parts, found.text.index("third")) == "page 3"
    assert part_at(found.parts, 0) == "page 1"


def test_docx_odt_html_markdown_and_text_are_read_paragraph_by_paragraph():
    word = extract(docx_bytes(["A first paragraph.", "", "A second one."], table=[["cell a", "cell b"]]))
    assert word.text == "A first paragraph.\n\nA second one.\n\ncell a\n\ncell b"
    assert word.media_type.endswith("wordprocessingml.document")
    assert [p.label for p in word.parts] == ["paragraph 1", "paragraph 2", "paragraph 3", "paragraph 4"]
    odt = extract(odt_bytes("A heading", ["Its paragraph."]))
    assert (odt.text, odt.media_type) == ("A heading\n\nIts paragraph.", "application/vnd.oasis.opendocument.text")
    html = b"<!doctype html><html><head><title>no</title><style>p{}</style></head><body><p>One &amp; two</p>"
    html += b"<script>alert(1)</script><ul><li>three</li></ul></body></html>"
    assert extract(html).text == "One & two\n\nthree"
    markdown = extract(b"# Title\n\nSome *emphasis*.\n\n- an item", "notes.md")
    assert (markdown.text, markdown.media_type) == ("Title\n\nSome emphasis.\n\nan item", "text/markdown")
    plain = extract("Первый абзац.\r\n\r\nВторой.".encode("utf-16"), "notes.txt")
    assert (plain.text, plain.media_type, len(plain.parts)) == ("Первый абзац.\n\nВторой.", "text/plain", 2)


def test_the_name_does_not_decide_the_kind():
    assert extract(pdf_bytes(["Really a PDF."]), "notes.txt").media_type == "application/pdf"
    assert extract(b"Really text.", "report.pdf").media_type == "text/plain"
    with pytest.raises(DocumentRejected, match="binary file"):
        extract(b"\x7fELF\x02\x01\x01\x00\x00\x00", "report.docx")


def test_the_intake_rule_cleans_each_part_and_says_what_it_changed():
    found = extract(docx_bytes(["Invisible\u200b characters\u200b here.", "A second paragraph."]))
    assert "\u200b" not in found.text
    assert any("invisible" in note for note in found.normalised)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "the file is empty"),
        (pdf_bytes(["A secret."], password="hunter2"), "encrypted"),
        (pdf_bytes(["", ""]), "no text layer .* OCR is not supported"),
        (b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer garbage", "the PDF cannot be read"),
        (zip_bomb(MAX_UNPACKED_BYTES + 1), "zip bomb"),
        (b"PK\x03\x04 not really a zip", "damaged zip"),
        (docx_bytes(["x"]).replace(b"word/document.xml", b"word/documenX.xml"), "not a DOCX or ODT"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary file"),
        ("latin-1 café".encode("latin-1"), "not UTF-8"),
        (b" \n\n\t ", "no text"),
        (docx_bytes(["", "   "]), "no text"),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_with_its_reason(data, reason):
    with pytest.raises(DocumentRejected, match=reason):
        extract(data, "upload.docx")


def test_a_document_longer_than_the_limit_is_too_large():
    with pytest.raises(TooLarge, match="limit of 50 characters"):
        extract(docx_bytes(["word " * 20, "more " * 20]), max_chars=50)
