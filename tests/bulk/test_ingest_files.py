"""`veritext ingest` on JSONL, CSV, Parquet and a directory of documents (text, DOCX, PDF), each with bad
lines: the good ones are accepted under one batch id, the bad ones land in the rejects file with their
line number and reason (exit code 2), and the batch's progress reaches `scored` once the
pipeline ran. Real broker, real PostgreSQL, the real command; the model is the test double."""

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.cli import veritext
from tests.documents.files import docx_bytes, pdf_bytes
from tests.doubles import FixedScoreDetector
from tests.helpers import wait_until
from tests.pipeline import pipeline

MAX_CHARS = 500
GOOD = [f'Text number {i}: a short paragraph, with a comma and "quotes", ёжик {i}.' for i in range(12)]
GOOD[5] += "\nIt goes on for a second line."  # a quoted CSV field spanning two lines
TOO_LONG = "x" * (MAX_CHARS + 1)


def _jsonl(tmp: Path) -> tuple[Path, list[str], dict[int, str]]:
    lines = [json.dumps({"text": t, "id": f"doc-{i}"}, ensure_ascii=False) for i, t in enumerate(GOOD)]
    lines.insert(2, "{not json")  # line 3
    lines.insert(4, json.dumps({"id": "no-text"}))  # line 5
    lines.insert(6, "")  # line 7: blank lines are skipped, not rejected
    lines.insert(8, json.dumps({"text": "   ", "id": "blank"}))  # line 9
    lines.insert(10, json.dumps({"text": TOO_LONG, "id": "long"}))  # line 11
    lines.insert(12, json.dumps({"text": "no id here"}))  # line 13
    path = tmp / "texts.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    bad = {3: "not valid JSON", 5: "no 'text' field", 9: "is empty", 11: "maximum is 500", 13: "no 'id' value"}
    return path, ["--id-field", "id"], bad


def _csv(tmp: Path) -> tuple[Path, list[str], dict[int, str]]:
    rows = [b"id,text"]
    for i, t in enumerate(GOOD):
        rows.append(f'doc-{i},"{t.replace(chr(34), chr(34) * 2)}"'.encode())
    rows.insert(2, b"too,many,fields")  # line 3
    rows.insert(4, b'doc-x,"bad \xff\xfe bytes"')  # line 5
    rows.insert(6, b'doc-y,""')  # line 7
    rows.insert(8, f"doc-z,{TOO_LONG}".encode())  # line 9
    path = tmp / "texts.csv"
    path.write_bytes(b"\xef\xbb\xbf" + b"\r\n".join(rows) + b"\r\n")  # a BOM, as spreadsheets write it
    bad = {3: "3 fields where the header has 2", 5: "not valid UTF-8", 7: "is empty", 9: "maximum is 500"}
    return path, ["--id-field", "id"], bad


def _parquet(tmp: Path) -> tuple[Path, list[str], dict[int, str]]:
    texts: list[str | None] = list(GOOD)
    ids = [f"doc-{i}" for i in range(len(GOOD))]
    for row, bad in ((2, None), (5, "  "), (8, TOO_LONG)):  # rows 3, 6 and 9
        texts.insert(row, bad)
        ids.insert(row, f"bad-{row}")
    path = tmp / "texts.parquet"
    pq.write_table(pa.table({"id": ids, "text": texts}), path, row_group_size=5)
    return path, ["--id-field", "id"], {3: "no 'text' field", 6: "is empty", 9: "maximum is 500"}


def _documents(tmp: Path) -> tuple[Path, list[str], dict[int, str]]:
    folder = tmp / "texts"
    (folder / "sub").mkdir(parents=True)
    for i, t in enumerate(GOOD):
        (folder / ("sub" if i % 2 else "") / f"good-{i:02d}.txt").write_text(t, encoding="utf-8")
    (folder / "good-00.txt").unlink()
    (folder / "good-00.docx").write_bytes(docx_bytes([GOOD[0]]))
    (folder / "sub" / "good-01.txt").unlink()
    (folder / "sub" / "good-01.pdf").write_bytes(pdf_bytes([GOOD[1]]))
    (folder / "a-empty.txt").write_text("")  # file 1 in path order
    (folder / "b-bytes.txt").write_bytes(b"caf\xe9")  # file 2
    (folder / "c-long.txt").write_text("y" * (MAX_CHARS + 1))  # file 3
    (folder / "d-locked.pdf").write_bytes(pdf_bytes(["A secret."], password="pw"))  # file 4
    (folder / "photo.png").write_bytes(b"\x89PNG\r\n")  # not a document: not read
    return folder, [], {1: "the file is empty", 2: "not UTF-8", 3: "limit of 500 characters", 4: "encrypted"}


@pytest.mark.parametrize("make", [_jsonl, _csv, _parquet, _documents], ids=["jsonl", "csv", "parquet", "documents"])
def test_ingest_a_file_with_bad_lines(kafka, database_url, engine, tmp_path, make):
    path, args, bad = make(tmp_path)
    env = {"VERITEXT_BULK_MAX_TEXT_CHARS": str(MAX_CHARS)}
    done = veritext(kafka, database_url, "ingest", str(path), *args, env=env)
    assert done.returncode == 2, done.stderr  # something was rejected
    assert "Traceback" not in done.stderr

    rejects = path.with_name(path.name + ".rejects.jsonl")
    found = [json.loads(line) for line in rejects.read_text(encoding="utf-8").splitlines()]
    assert [r["line"] for r in found] == sorted(bad)
    for record in found:
        assert bad[record["line"]] in record["reason"], record

    listed = veritext(kafka, database_url, "batches", "--json")
    assert listed.returncode == 0, listed.stderr
    (batch,) = [json.loads(line) for line in listed.stdout.splitlines()]
    assert batch["submitted"] == len(GOOD) and batch["rejected"] == len(bad)
    assert batch["name"] == str(path)
    with pipeline(kafka, engine, detector=FixedScoreDetector()) as p:
        progress = wait_until(
            lambda: (b := p.client.get(f"/v1/batches/{batch['batch_id']}").json())["status"] == "scored" and b,
            timeout_s=60,
            what="the batch to be scored",
        )
    assert (progress["submitted"], progress["scored"], progress["failed"]) == (len(GOOD), len(GOOD), 0)


def test_a_clean_file_exits_0_and_dedupe_skips_what_the_log_has(kafka, database_url, engine, tmp_path):
    path = tmp_path / "clean.jsonl"
    path.write_text("".join(json.dumps({"text": t}) + "\n" for t in [*GOOD, GOOD[0]]), encoding="utf-8")
    first = veritext(kafka, database_url, "ingest", str(path), "--lang", "en", "--dedupe")
    assert first.returncode == 0, first.stderr
    assert not path.with_name(path.name + ".rejects.jsonl").exists(), "no rejects, no rejects file"
    with pipeline(kafka, engine, detector=FixedScoreDetector()) as p:
        (batch,) = [json.loads(line) for line in veritext(kafka, database_url, "batches", "--json").stdout.splitlines()]
        assert batch["duplicates"] == 1, "the repeated text within the file was skipped"
        wait_until(lambda: p.client.get(f"/v1/batches/{batch['batch_id']}").json()["status"] == "scored", timeout_s=60)
        text = p.client.get(f"/v1/batches/{batch['batch_id']}").json()
        assert text["scored"] == len(GOOD)

    again = veritext(kafka, database_url, "ingest", str(path), "--dedupe")
    assert again.returncode == 0, again.stderr
    latest = json.loads(veritext(kafka, database_url, "batches", "--json", "--limit", "1").stdout)
    assert (latest["submitted"], latest["duplicates"]) == (0, len(GOOD) + 1)
    assert latest["status"] == "empty", "nothing to score is not 'scored'"


def test_a_file_without_the_text_field_leaves_an_empty_batch_not_a_scored_one(kafka, database_url, tmp_path):
    path = tmp_path / "bodies.jsonl"
    path.write_text("".join(json.dumps({"body": t}) + "\n" for t in GOOD), encoding="utf-8")
    done = veritext(kafka, database_url, "ingest", str(path))
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    (batch,) = [json.loads(line) for line in veritext(kafka, database_url, "batches", "--json").stdout.splitlines()]
    assert (batch["status"], batch["submitted"], batch["rejected"]) == ("empty", 0, len(GOOD))


def test_bad_invocations_get_a_message_not_a_traceback(kafka, database_url, tmp_path):
    csv_file = tmp_path / "no-column.csv"
    csv_file.write_text("body\nhello\n")
    unknown = tmp_path / "data.xml"
    unknown.write_text("<a/>")
    for args, message in [
        ((str(tmp_path / "missing.jsonl"),), "does not exist"),
        ((str(csv_file),), "has no column 'text'"),
        ((str(unknown),), "pass --format"),
        ((str(tmp_path), "--text-field", "body"), "a directory of documents has no fields"),
    ]:
        done = veritext(kafka, database_url, "ingest", *args)
        assert done.returncode == 1, (args, done.stdout, done.stderr)
        assert message in done.stderr and "Traceback" not in done.stderr, done.stderr
