"""Documents made for the tests, in the formats people upload: a PDF with a text layer (one font, one text
line per line), an encrypted one, a scan-like one (pages with no text), DOCX and ODT, and a zip bomb."""

import io
import zipfile

import docx
from odf.opendocument import OpenDocumentText
from odf.text import H, P
from pypdf import PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

__all__ = ["docx_bytes", "odt_bytes", "pdf_bytes", "zip_bomb"]


def pdf_bytes(pages: list[str], password: str | None = None) -> bytes:
    """A PDF whose page i shows `pages[i]` (ASCII; an empty string: a page with no text layer)."""
    writer = PdfWriter()
    font = writer._add_object(
        DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Font"),
                NameObject("/Subtype"): NameObject("/Type1"),
                NameObject("/BaseFont"): NameObject("/Helvetica"),
            }
        )
    )
    for text in pages:
        page = writer.add_blank_page(612, 792)
        if not text:
            continue
        lines = [line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") for line in text.split("\n")]
        content = DecodedStreamObject()
        shown = " ".join(f"({line}) Tj T*" for line in lines)
        content.set_data(f"BT /F1 11 Tf 14 TL 72 720 Td {shown} ET".encode())
        page[NameObject("/Contents")] = writer._add_object(content)
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})}
        )
    if password is not None:
        writer.encrypt(password, algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def docx_bytes(paragraphs: list[str], table: list[list[str]] | None = None) -> bytes:
    document = docx.Document()
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for row, cells in zip(grid.rows, table, strict=True):
            for cell, text in zip(row.cells, cells, strict=True):
                cell.text = text
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def odt_bytes(heading: str, paragraphs: list[str]) -> bytes:
    document = OpenDocumentText()
    document.text.addElement(H(outlinelevel=1, text=heading))
    for paragraph in paragraphs:
        document.text.addElement(P(text=paragraph))
    out = io.BytesIO()
    document.write(out)
    return out.getvalue()


def zip_bomb(unpacked_bytes: int) -> bytes:
    """A DOCX-looking zip whose document.xml unpacks to `unpacked_bytes` of zeros (a few KB packed)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", b"\0" * unpacked_bytes)
    return out.getvalue()
