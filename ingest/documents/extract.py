"""A document's text, as the intake rule wants it: what kind of file it is (read from its bytes, never
from its name), its text part by part (a PDF's pages, the paragraphs of anything else), each part
cleaned by the intake rule (schemas/text.py) and joined by a blank line, with the offset where each
part starts, so a verdict's segments can say "page 3".

Formats: PDF (its text layer; pypdf), DOCX (python-docx), ODT (odfpy), HTML (the standard library's
parser), Markdown (rendered with markdown-it, then read as HTML) and plain UTF-8/UTF-16 text. A name
ending in `.md` or `.markdown` is the only thing the name decides: whether a text file is read as
Markdown.

Every file that cannot be read raises `DocumentRejected` (an `InputError`: a 422 with the reason, a
rejects line, a polite bot message): an encrypted PDF, a PDF without a text layer (a scan: OCR is not
supported), a zip archive that is not a DOCX or ODT or that would unpack past `MAX_UNPACKED_BYTES` (the
sizes a zip declares bound what it can unpack to: Python's zipfile stops there and checks the CRC), a
damaged file, a binary file, a document with no text. Past the caller's character limit:
`TooLarge`."""

import io
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

from markdown_it import MarkdownIt

from schemas.documents import DocumentPart
from schemas.errors import InputError, TooLarge
from schemas.text import TextRejected, clean_text

__all__ = ["MAX_PAGES", "MAX_UNPACKED_BYTES", "DocumentRejected", "Extracted", "extract"]

MAX_UNPACKED_BYTES = 64 * 2**20  # what a DOCX or ODT may unpack to, all its members together
MAX_PAGES = 2_000
_BLANK_LINES = re.compile(r"\n\s*\n")
_DOCX_MEDIA = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_ODT_MEDIA = "application/vnd.oasis.opendocument.text"


class DocumentRejected(InputError):
    """The file cannot be read as a document; the message says why."""


@dataclass(frozen=True)
class Extracted:
    text: str
    media_type: str
    parts: list[DocumentPart]
    normalised: tuple[str, ...]  # what the intake rule changed in the text, as for any submission


def extract(data: bytes, filename: str | None = None, max_chars: int | None = None) -> Extracted:
    """The text of the document in `data` (see the module docstring)."""
    if not data:
        raise DocumentRejected("the file is empty")
    if data.find(b"%PDF-", 0, 1024) >= 0:
        media_type, parts = "application/pdf", _pdf(data)
    elif data.startswith(b"PK\x03\x04"):
        media_type, parts = _office(data)
    else:
        text = _decode(data)
        name = (filename or "").lower()
        if name.endswith((".md", ".markdown")):
            media_type, parts = "text/markdown", _html_paragraphs(MarkdownIt().render(text))
        elif re.match(r"\s*(<!doctype html|<html)", text[:1024], re.IGNORECASE):
            media_type, parts = "text/html", _html_paragraphs(text)
        else:
            media_type, parts = "text/plain", _paragraphs_of(_BLANK_LINES.split(text))
    return _join(media_type, parts, max_chars)


def _join(media_type: str, parts: Iterator[tuple[str | None, str]], max_chars: int | None) -> Extracted:
    """Clean and join the parts; a part without a label is called by its number among the paragraphs kept."""
    raw: list[str] = []
    texts: list[str] = []
    found: list[DocumentPart] = []
    start = 0
    for label, part in parts:
        try:
            cleaned = clean_text(part).text.strip()
        except TextRejected:  # a blank part, or a lone surrogate (which the whole-text rule rejects below)
            continue
        if not cleaned:
            continue
        raw.append(part)
        found.append(DocumentPart(start=start, label=label or f"paragraph {len(found) + 1}"))
        texts.append(cleaned)
        start += len(cleaned) + 2
        if max_chars is not None and start - 2 > max_chars:
            raise TooLarge(f"the document's text is longer than the limit of {max_chars} characters")
    if not texts:
        if media_type == "application/pdf":
            raise DocumentRejected("the PDF has no text layer (a scan?): OCR is not supported")
        raise DocumentRejected("the document has no text")
    try:
        normalised = clean_text("\n\n".join(raw)).changes
    except TextRejected as exc:
        raise DocumentRejected(str(exc)) from None
    return Extracted("\n\n".join(texts), media_type, found, tuple(normalised))


def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise DocumentRejected("the file starts as UTF-16 text but is not") from None
    if b"\x00" in data[:8192]:
        raise DocumentRejected("not a document: a binary file (PDF, DOCX, ODT, HTML, Markdown or text are read)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DocumentRejected(f"a text file that is not UTF-8 (byte {exc.start}); send it as UTF-8") from None


def _pdf(data: bytes) -> Iterator[tuple[str | None, str]]:
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                opened = bool(reader.decrypt(""))  # an owner password alone: readable without one
            except (DependencyError, NotImplementedError, PdfReadError):
                opened = False
            if not opened:
                raise DocumentRejected("the PDF is encrypted: send it without a password")
        pages = len(reader.pages)
    except DocumentRejected:
        raise
    except Exception as exc:  # a damaged or hostile file: pypdf raises many kinds
        raise DocumentRejected(f"the PDF cannot be read ({type(exc).__name__})") from None
    if pages > MAX_PAGES:
        raise DocumentRejected(f"the PDF has {pages} pages; the limit is {MAX_PAGES}")
    texts: list[tuple[str | None, str]] = []
    for number in range(pages):
        try:
            texts.append((f"page {number + 1}", reader.pages[number].extract_text() or ""))
        except Exception as exc:
            raise DocumentRejected(f"page {number + 1} of the PDF cannot be read ({type(exc).__name__})") from None
    return iter(texts)


def _office(data: bytes) -> tuple[str, Iterator[tuple[str | None, str]]]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, ValueError) as exc:
        raise DocumentRejected(f"a damaged zip archive ({exc})") from None
    unpacked = sum(member.file_size for member in members)
    if unpacked > MAX_UNPACKED_BYTES:
        raise DocumentRejected(
            f"the archive would unpack to {unpacked} bytes; the limit is {MAX_UNPACKED_BYTES} (a zip bomb?)"
        )
    names = {member.filename for member in members}
    try:
        if "word/document.xml" in names:
            return _DOCX_MEDIA, _docx(data)
        if "mimetype" in names and archive.read("mimetype").strip() == _ODT_MEDIA.encode():
            return _ODT_MEDIA, _odt(data)
    except DocumentRejected:
        raise
    except Exception as exc:  # a damaged member, bad XML
        raise DocumentRejected(f"the document cannot be read ({type(exc).__name__})") from None
    raise DocumentRejected("a zip archive that is not a DOCX or ODT document")


def _docx(data: bytes) -> Iterator[tuple[str | None, str]]:
    import docx
    from docx.table import Table

    document = docx.Document(io.BytesIO(data))
    paragraphs: list[str] = []
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            paragraphs += [cell.text for row in block.rows for cell in row.cells]
        else:
            paragraphs.append(block.text)
    return _paragraphs_of(paragraphs)


def _odt(data: bytes) -> Iterator[tuple[str | None, str]]:
    from odf import teletype
    from odf.namespaces import TEXTNS
    from odf.opendocument import load

    def blocks(node: Any) -> Iterator[Any]:
        for child in node.childNodes:
            if child.qname in ((TEXTNS, "p"), (TEXTNS, "h")):
                yield child
            elif child.nodeType == child.ELEMENT_NODE:
                yield from blocks(child)

    return _paragraphs_of(teletype.extractText(block) for block in blocks(load(io.BytesIO(data)).text))


def _paragraphs_of(paragraphs: Iterable[str]) -> Iterator[tuple[str | None, str]]:
    return ((None, paragraph) for paragraph in paragraphs)


class _HtmlText(HTMLParser):
    """The text of an HTML page, a paragraph per block element; scripts, styles and the head left out."""

    _BLOCKS = frozenset(
        {"address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "figcaption", "footer"}
        | {"form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav", "ol", "p", "pre"}
        | {"section", "table", "td", "th", "tr", "ul"}
    )
    _SKIPPED = frozenset({"script", "style", "head", "template", "noscript"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.paragraphs: list[str] = [""]
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in self._SKIPPED:
            self._skipping += 1
        elif tag in self._BLOCKS:
            self.paragraphs.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIPPED:
            self._skipping = max(0, self._skipping - 1)
        elif tag in self._BLOCKS:
            self.paragraphs.append("")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.paragraphs[-1] += data


def _html_paragraphs(html: str) -> Iterator[tuple[str | None, str]]:
    parser = _HtmlText()
    parser.feed(html)
    parser.close()
    return _paragraphs_of(" ".join(p.split()) for p in parser.paragraphs)
