"""`/v1/documents` on a real broker and PostgreSQL, originals in a folder: each format uploaded becomes a
submission like any other, scored (a sentence-scoring test double: these tests are about the pipeline),
its verdict read back page by page; bad files get a 4xx with the reason and submit nothing; a retry with
the same Idempotency-Key is the same document; its owner deletes the original and the text, and that
is recorded."""

import uuid
from pathlib import Path

from sqlalchemy.orm import Session

from ingest.documents.objects import ObjectStore
from store.models import Submission
from tests.documents.files import docx_bytes, odt_bytes, pdf_bytes, zip_bomb
from tests.doubles import SentenceScoreDetector
from tests.helpers import wait_until
from tests.pipeline import count_rows, pipeline

ESSAY = ["The first page of the essay says one thing. It goes on.", "The second page says another thing."]


def _scored(client, href: str) -> dict:
    return wait_until(lambda: (view := client.get(href).json())["status"] == "scored" and view, what=f"{href} scored")


def test_each_format_becomes_a_scored_submission_whose_segments_name_their_page(kafka, engine):
    uploads = {
        "essay.pdf": pdf_bytes(ESSAY),
        "essay.docx": docx_bytes(ESSAY),
        "essay.odt": odt_bytes("An essay", ESSAY),
        "essay.html": f"<html><body><p>{ESSAY[0]}</p><p>{ESSAY[1]}</p></body></html>".encode(),
        "essay.md": f"# An essay\n\n{ESSAY[0]}\n\n{ESSAY[1]}".encode(),
        "essay.txt": "\n\n".join(ESSAY).encode(),
    }
    with pipeline(kafka, engine, SentenceScoreDetector()) as p:
        for name, data in uploads.items():
            answer = p.client.post("/v1/documents", files={"file": (name, data)}, data={"external_id": name})
            assert answer.status_code == 202, (name, answer.text)
            accepted = answer.json()
            view = _scored(p.client, accepted["href"])
            assert view["filename"] == name and view["media_type"] == accepted["media_type"]
            assert view["size_bytes"] == len(data) and len(view["sha256"]) == 64
            (verdict,) = view["verdicts"]
            assert verdict["detector_version"] == "sentences-1" and 0 <= verdict["probability"] <= 1
            last = verdict["segments"][-1]
            assert last["part"] == ("page 2" if name == "essay.pdf" else view["parts"][-1]["label"]), name
            text = p.client.get(view["text_href"]).json()
            assert text["source"] == "http" and text["external_id"] == name
            assert text["n_chars"] == view["n_chars"] == accepted["n_chars"]


def test_bad_files_get_a_reason_and_nothing_is_submitted(kafka, engine):
    bad = {
        "locked.pdf": (pdf_bytes(["A secret."], password="pw"), 422, "encrypted"),
        "scan.pdf": (pdf_bytes(["", ""]), 422, "OCR is not supported"),
        "bomb.docx": (zip_bomb(65 * 2**20), 422, "zip bomb"),
        "lies.pdf": (b"\x89PNG\r\n\x1a\n\x00\x00", 422, "binary file"),
        "empty.docx": (docx_bytes([""]), 422, "no text"),
    }
    with pipeline(kafka, engine, detector=None) as p:
        for name, (data, code, reason) in bad.items():
            answer = p.client.post("/v1/documents", files={"file": (name, data)})
            assert answer.status_code == code and reason in answer.json()["detail"], (name, answer.text)
        huge = b"%PDF-1.7\n" + b"0" * (21 * 2**20)
        answer = p.client.post("/v1/documents", files={"file": ("huge.pdf", huge)})
        assert answer.status_code == 413 and "the limit is" in answer.json()["detail"]
        nul = p.client.post("/v1/documents", files={"file": ("a.txt", b"text")}, data={"external_id": "a\x00b"})
        assert nul.status_code == 422
        assert p.client.post("/v1/documents", data={"lang": "en"}).status_code == 422, "no file"
        assert count_rows(engine) == (0, 0)


def test_a_retry_under_one_key_is_one_document_and_its_owner_deletes_it(kafka, engine, tmp_path: Path):
    originals = ObjectStore(tmp_path.as_uri())
    data = docx_bytes(ESSAY)
    with pipeline(kafka, engine, SentenceScoreDetector(), documents=originals) as p:
        headers = {"Idempotency-Key": "essay-7"}
        first = p.client.post("/v1/documents", files={"file": ("essay.docx", data)}, headers=headers).json()
        again = p.client.post("/v1/documents", files={"file": ("essay.docx", data)}, headers=headers).json()
        assert first["document_id"] == again["document_id"] and first["submission_id"] == again["submission_id"]
        other = p.client.post("/v1/documents", files={"file": ("b.docx", docx_bytes(["Another."]))}, headers=headers)
        assert other.status_code == 422 and "Idempotency-Key" in other.json()["detail"]
        view = _scored(p.client, first["href"])
        (kept,) = list(tmp_path.rglob("*"))[-1:]
        assert kept.read_bytes() == data

        assert p.client.delete(f"/v1/documents/{uuid.uuid4()}").status_code == 404
        assert p.client.delete(first["href"]).status_code == 204
        assert not any(path.is_file() for path in tmp_path.rglob("*")), "the original is gone"
        after = p.client.get(first["href"]).json()
        assert after["deleted_at"] is not None and after["verdicts"] == view["verdicts"]
        with Session(engine) as session:
            assert session.get(Submission, uuid.UUID(first["submission_id"])).text == "", "the text is gone"
        assert p.client.delete(first["href"]).status_code == 204, "deleting again changes nothing"
