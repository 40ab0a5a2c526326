"""`veritext export` round trip: what the CSV, JSONL and Parquet files hold matches the log
database row for row, and the selections (batch, time window, detector) select what they say.
The log is written with the sink's own writer on real PostgreSQL; the command is the real one."""

import csv
import json
import uuid
from datetime import UTC, datetime, timedelta

import pyarrow.parquet as pq
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from schemas.events import ScoreEvent, SubmissionEvent
from schemas.results import ResultRow
from schemas.verdict import ScoreView, Segment
from store.writer import write_scores, write_submissions
from tests.cli import veritext

START = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
BATCH = uuid.uuid4()


def _fill(engine) -> None:
    submissions = [
        SubmissionEvent(
            submission_id=uuid.uuid4(),
            text=f"Текст номер {i}, with a comma" if i % 2 else f'Text "{i}"\non two lines',
            lang="ru" if i % 2 else None,
            external_id=f"ext,{i}" if i % 3 else None,
            source="bulk" if i < 6 else "http",
            batch_id=BATCH if i < 6 else None,
            submitted_at=START + timedelta(minutes=i),
        )
        for i in range(10)
    ]
    scores = [
        ScoreEvent(
            submission_id=s.submission_id,
            detector_name="fixed-double",
            detector_version=version,
            probability=(i + 1) / 11 - (0.05 if version == "double-2" else 0),
            label="machine" if i > 4 else "human",
            n_tokens=i * 3,
            lang="ru" if i % 2 else "en",
            too_short=i == 0,
            confidence=None if i == 0 else ("low", "medium", "high")[i % 3],
            segments=[
                Segment(start=0, end=4, probability=0.25, n_tokens=i),
                Segment(start=4, end=9, probability=0.75, n_tokens=i + 1),
            ][: i % 3],
            read_chars=9 if i == 7 else None,
            latency_ms=1.5,
            submitted_at=s.submitted_at,
            scored_at=s.submitted_at + timedelta(seconds=2, microseconds=7),
        )
        for i, s in enumerate(submissions)
        for version in (("double-1", "double-2") if i % 2 else ("double-1",))
    ]
    with Session(engine) as session, session.begin():
        write_submissions(session, submissions)
        write_scores(session, scores)


def _database_rows(engine) -> list[dict[str, object]]:
    query = text(
        """SELECT s.id AS submission_id, s.external_id, s.batch_id, s.content_hash, s.lang,
                  c.lang AS detected_lang, c.probability, c.label, c.too_short, c.confidence, c.n_tokens,
                  c.detector_name, c.detector_version, s.submitted_at, c.scored_at, c.segments, c.read_chars
           FROM scores c JOIN submissions s ON s.id = c.submission_id
           ORDER BY s.submitted_at, s.id, c.detector_version"""
    )
    with engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(query)]


def _normalise(value: object) -> object:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return value


def _read_csv(path) -> list[dict[str, object]]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        for key in ("external_id", "batch_id", "lang", "detected_lang", "confidence"):
            row[key] = row[key] or None
        row["segments"] = json.loads(row["segments"])
        row["probability"] = float(row["probability"])
        row["n_tokens"] = int(row["n_tokens"])
        row["read_chars"] = int(row["read_chars"]) if row["read_chars"] else None
        row["too_short"] = {"true": True, "false": False}[row["too_short"]]
        for key in ("submitted_at", "scored_at"):
            assert row[key].endswith("Z"), "times are ISO 8601 in UTC"
            row[key] = datetime.fromisoformat(row[key])
    return rows


def _read_jsonl(path) -> list[dict[str, object]]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    for row in rows:
        for key in ("submitted_at", "scored_at"):
            row[key] = datetime.fromisoformat(row[key])
    return rows


def _read_parquet(path) -> list[dict[str, object]]:
    rows = pq.read_table(path).to_pylist()
    for row in rows:
        row["segments"] = json.loads(row["segments"])
    return rows


READERS = {"csv": _read_csv, "jsonl": _read_jsonl, "parquet": _read_parquet}


@pytest.mark.parametrize("fmt", list(READERS))
def test_export_round_trip_matches_the_database(kafka, database_url, engine, tmp_path, fmt):
    _fill(engine)
    output = tmp_path / f"results.{fmt}"
    done = veritext(kafka, database_url, "export", "--format", fmt, "--output", str(output))
    assert done.returncode == 0, done.stderr
    expected = [{k: _normalise(v) for k, v in row.items()} for row in _database_rows(engine)]
    exported = [{k: _normalise(v) for k, v in row.items()} for row in READERS[fmt](output)]
    assert len(expected) == 15
    assert exported == expected
    if fmt == "csv":
        raw = output.read_bytes()
        assert raw.startswith(b"\xef\xbb\xbfsubmission_id,external_id,") and b"\r\n" in raw


def test_export_selects_by_batch_window_and_detector(kafka, database_url, engine, tmp_path):
    _fill(engine)
    everything = _database_rows(engine)

    def exported(*args: str) -> list[dict[str, object]]:
        output = tmp_path / f"{uuid.uuid4().hex}.jsonl"
        done = veritext(kafka, database_url, "export", "--output", str(output), *args)
        assert done.returncode == 0, done.stderr
        return _read_jsonl(output)

    in_batch = exported("--batch", str(BATCH))
    expected = [(str(r["submission_id"]), r["detector_version"]) for r in everything if r["batch_id"] == BATCH]
    assert [(r["submission_id"], r["detector_version"]) for r in in_batch] == expected and len(expected) == 9
    window = exported("--since", "2026-03-01T12:03:00", "--until", "2026-03-01T15:05:00+03:00")  # 12:03 to 12:05 UTC
    assert sorted({r["submitted_at"].minute for r in window}) == [3, 4]
    second = exported("--detector", "fixed-double@double-2")
    assert len(second) == 5 and {r["detector_version"] for r in second} == {"double-2"}

    unknown = veritext(kafka, database_url, "export", "--output", str(tmp_path / "x.xlsx"))
    assert unknown.returncode == 1 and "pass --format" in unknown.stderr
    bad_time = veritext(kafka, database_url, "export", "--output", str(tmp_path / "x.csv"), "--since", "yesterday")
    assert bad_time.returncode == 2 and "ISO 8601" in bad_time.stderr


def test_a_cell_a_spreadsheet_would_run_as_a_formula_is_exported_as_text(kafka, database_url, engine, tmp_path):
    formulas = ["=cmd|' /C calc'!A0", "+1+2", "-2+3", "@SUM(A1)"]
    submissions = [
        SubmissionEvent(submission_id=uuid.uuid4(), text=f"Text {i}.", external_id=f, submitted_at=START)
        for i, f in enumerate(formulas)
    ]
    scores = [
        ScoreEvent(
            submission_id=s.submission_id,
            detector_name="fixed-double",
            detector_version="double-1",
            probability=0.5,
            label="human",
            n_tokens=3,
            latency_ms=1.0,
            submitted_at=START,
            scored_at=START,
        )
        for s in submissions
    ]
    with Session(engine) as session, session.begin():
        write_submissions(session, submissions)
        write_scores(session, scores)
    for fmt in ("csv", "jsonl"):
        output = tmp_path / f"out.{fmt}"
        done = veritext(kafka, database_url, "export", "--format", fmt, "--output", str(output))
        assert done.returncode == 0, done.stderr
    with open(tmp_path / "out.csv", encoding="utf-8-sig") as f:
        exported = {r["external_id"] for r in csv.DictReader(f)}
    assert exported == {f"'{f}" for f in formulas}
    assert {r["external_id"] for r in _read_jsonl(tmp_path / "out.jsonl")} == set(formulas)  # JSON keeps the value


def test_an_export_row_carries_every_field_of_a_verdict():
    """The export names the verdict's fields itself (a flat contract, the detector's language as
    `detected_lang`): a field added to the verdict must be added to it too."""
    named = {"detected_lang" if name == "lang" else name for name in ScoreView.model_fields}
    assert named <= set(ResultRow.model_fields)
