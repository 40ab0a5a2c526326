"""Export writers: result rows streamed into a CSV, JSONL or Parquet file.

- CSV is what a spreadsheet expects: UTF-8 with a byte-order mark (so Excel reads Cyrillic
  right), a header row, commas, CRLF line ends, quotes where needed; empty cells for missing
  values, `true`/`false`, full-precision probabilities, and times in ISO 8601, UTC (`...Z`).
- JSONL: one object per row, the same fields and the same time format.
- Parquet: typed columns (times as UTC timestamps in microseconds), written in row groups.
- A CSV text cell that a spreadsheet would run as a formula (it starts with `=`, `+`, `-`, `@`, a tab
  or a carriage return: a caller's `external_id` of `=cmd|' /C calc'!A0`) gets a leading `'`, so it
  reads as the text it is (OWASP's advice on CSV injection); numbers are written as numbers.
- The per-sentence `segments` are a JSON array (`[{"start", "end", "probability", "n_tokens"}]`) in a
  CSV cell and a Parquet string column, a nested array in JSONL.

The file is written beside its destination and moved into place only when complete, so a failed
export never leaves a partial file that looks whole.
"""

import csv
import io
import json
import os
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Literal

from schemas.results import ResultRow
from schemas.verdict import Segment

__all__ = ["EXPORT_FORMATS", "ExportFormat", "csv_chunks", "write_results"]

ExportFormat = Literal["csv", "jsonl", "parquet"]
EXPORT_FORMATS: tuple[ExportFormat, ...] = ("csv", "jsonl", "parquet")
_FIELDS = list(ResultRow.model_fields)
_ROW_GROUP = 50_000


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return _iso(value)
    if isinstance(value, list):
        return _segments_json(value)
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return f"'{value}"
    return str(value)


def _segments_json(segments: list[Segment]) -> str:
    return json.dumps([segment.model_dump() for segment in segments], separators=(",", ":"))


def write_results(rows: Iterable[ResultRow], fmt: ExportFormat, path: Path) -> int:
    """Write `rows` to `path` in `fmt`; returns how many were written."""
    partial = path.with_name(f".{path.name}.partial")
    try:
        if fmt == "parquet":
            count = _write_parquet(rows, partial)
        else:
            with open(partial, "w", encoding="utf-8-sig" if fmt == "csv" else "utf-8", newline="") as f:
                count = _write_csv(rows, f) if fmt == "csv" else _write_jsonl(rows, f)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return count


def csv_chunks(rows: Iterable[ResultRow], per_chunk: int = 500) -> Iterator[str]:
    """The CSV export's text (the byte-order mark aside), header first, `per_chunk` rows at a time: what
    the file gets, and what the web page streams as a download."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(_FIELDS)
    for n, row in enumerate(rows, 1):
        writer.writerow([_cell(getattr(row, name)) for name in _FIELDS])
        if n % per_chunk == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _write_csv(rows: Iterable[ResultRow], f: IO[str]) -> int:
    count = 0

    def counted() -> Iterator[ResultRow]:
        nonlocal count
        for row in rows:
            count += 1
            yield row

    for chunk in csv_chunks(counted()):
        f.write(chunk)
    return count


def _write_jsonl(rows: Iterable[ResultRow], f: IO[str]) -> int:
    count = 0
    for row in rows:
        f.write(row.model_dump_json() + "\n")
        count += 1
    return count


def _groups(rows: Iterable[ResultRow]) -> Iterator[list[ResultRow]]:
    group: list[ResultRow] = []
    for row in rows:
        group.append(row)
        if len(group) == _ROW_GROUP:
            yield group
            group = []
    if group:
        yield group


def _write_parquet(rows: Iterable[ResultRow], path: Path) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    stamp = pa.timestamp("us", tz="UTC")
    schema = pa.schema(
        [
            ("submission_id", pa.string()),
            ("external_id", pa.string()),
            ("batch_id", pa.string()),
            ("content_hash", pa.string()),
            ("lang", pa.string()),
            ("detected_lang", pa.string()),
            ("probability", pa.float64()),
            ("label", pa.string()),
            ("too_short", pa.bool_()),
            ("confidence", pa.string()),
            ("n_tokens", pa.int32()),
            ("detector_name", pa.string()),
            ("detector_version", pa.string()),
            ("submitted_at", stamp),
            ("scored_at", stamp),
            ("segments", pa.string()),
            ("read_chars", pa.int32()),
        ]
    )
    assert schema.names == _FIELDS, "the Parquet schema follows ResultRow"
    count = 0
    with pq.ParquetWriter(path, schema) as writer:
        for group in _groups(rows):
            columns: dict[str, list[Any]] = {name: [] for name in _FIELDS}
            for row in group:
                for name in _FIELDS:
                    value = getattr(row, name)
                    if name == "segments":
                        value = _segments_json(value)
                    elif name in ("submission_id", "batch_id") and value:
                        value = str(value)
                    columns[name].append(value)
            writer.write_table(pa.table(columns, schema=schema))
            count += len(group)
    return count
