"""Readers turn an input into numbered rows of fields, one format each, streaming:

- JSONL: one JSON object per line; blank lines are skipped.
- CSV: a header row, then one record per row (RFC 4180 quoting, so a text may span lines);
  UTF-8, with or without the byte-order mark spreadsheets write.
- Parquet: only the needed columns are read, one batch of rows at a time.
- a directory of documents (searched recursively, in path order): one text per file, `.txt`, `.md`,
  `.html`, `.pdf`, `.docx` or `.odt`, read as `POST /v1/documents` reads it (ingest/documents/extract.py:
  the kind from the bytes, a file it cannot read is rejected with the reason); the file's path relative
  to the directory is its external id (field `file`). The originals stay where they are: the operator
  holds them, so bulk keeps no copy and no document record.

A row that cannot be read (bad JSON, bad UTF-8, a line over the limit, a CSV row with the wrong
number of fields) comes out with a `problem` instead of fields, so the run rejects it and goes on.
A missing column in a CSV header or a Parquet schema is an error before anything is written.
Each reader counts its progress in its own unit (bytes, rows or files) against a known total.
"""

import csv
import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

from ingest.bulk.lines import LineSplitter
from ingest.bulk.records import RecordRules
from ingest.documents.extract import extract
from schemas.errors import ConfigError, InputError

__all__ = ["FILE_FIELD", "FORMATS", "Reader", "Row", "open_reader"]

FORMATS = ("jsonl", "csv", "parquet", "txt")
FILE_FIELD = "file"  # the external id of a text read from a directory of documents
DOCUMENT_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx", ".odt")
_SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
_CHUNK_BYTES = 1 << 20
_PARQUET_BATCH_ROWS = 10_000


@dataclass(frozen=True, slots=True)
class Row:
    line: int  # 1-based line, row or file number
    fields: Mapping[str, Any] | None
    problem: str | None = None  # why it could not be read (then `fields` is None)
    raw: Any = None  # what the rejects file shows of it


class Reader(Protocol):
    name: str
    unit: str  # "bytes", "rows" or "files"
    total: int
    done: int

    def rows(self) -> Iterator[Row]: ...


def open_reader(path: Path, fmt: str | None, rules: RecordRules) -> tuple[Reader, RecordRules]:
    """The reader for `path`, and the rules for its rows; `fmt` (one of FORMATS) or else the file
    suffix picks the format. A directory's rules take the text and id from each file."""
    if not path.exists():
        raise ConfigError(f"{path} does not exist")
    if fmt is None:
        fmt = "txt" if path.is_dir() else _SUFFIXES.get(path.suffix.lower())
        if fmt is None:
            raise ConfigError(f"cannot tell the format of {path} from its name; pass --format ({', '.join(FORMATS)})")
    if (fmt == "txt") != path.is_dir():
        raise ConfigError(f"format {fmt} needs {'a directory' if fmt == 'txt' else 'a file'}; {path} is not one")
    max_line_bytes = rules.max_chars * 6 + 65_536  # JSON may escape a character as \uXXXX
    if fmt == "jsonl":
        return JsonlReader(path, max_line_bytes), rules
    if fmt == "csv":
        return CsvReader(path, rules, max_line_bytes), rules
    if fmt == "parquet":
        return ParquetReader(path, rules), rules
    if fmt == "txt":
        if rules.text_field != "text" or rules.id_field is not None:
            raise ConfigError("a directory of documents has no fields: each file is one text, its path the id")
        return DocumentDirReader(path, rules.max_chars), replace(rules, id_field=FILE_FIELD)
    raise ConfigError(f"unknown format {fmt!r}; one of {', '.join(FORMATS)}")


class JsonlReader:
    unit = "bytes"

    def __init__(self, path: Path, max_line_bytes: int) -> None:
        self.name = str(path)
        self._path = path
        self._max = max_line_bytes
        self.total = path.stat().st_size
        self.done = 0

    def rows(self) -> Iterator[Row]:
        splitter = LineSplitter(self._max)
        with open(self._path, "rb") as f:
            while chunk := f.read(_CHUNK_BYTES):
                self.done += len(chunk)
                for line in splitter.feed(chunk):
                    if line.data is None or line.data.strip():
                        yield self._row(line.number, line.data)
            for line in splitter.end():
                if line.data is None or line.data.strip():
                    yield self._row(line.number, line.data)

    def _row(self, number: int, data: bytes | None) -> Row:
        if data is None:
            return Row(number, None, f"the line is longer than {self._max} bytes")
        try:
            value = json.loads(data)
        except ValueError as exc:  # bad JSON, or bytes that are not UTF-8
            return Row(number, None, f"not valid JSON: {exc}", data)
        if not isinstance(value, dict):
            return Row(number, None, f"not a JSON object but {type(value).__name__}", data)
        return Row(number, value, None, data)


class CsvReader:
    unit = "bytes"

    def __init__(self, path: Path, rules: RecordRules, max_line_bytes: int) -> None:
        self.name = str(path)
        self._path = path
        self._rules = rules
        self._max = max_line_bytes
        self.total = path.stat().st_size
        self.done = 0
        self._bad_lines: dict[int, str] = {}

    def rows(self) -> Iterator[Row]:
        with open(self._path, "rb") as f:
            reader = csv.reader(self._lines(f))
            header = self._header(next(reader, None))
            while True:
                start = reader.line_num + 1
                try:
                    values = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    yield Row(start, None, f"not valid CSV: {exc}")
                    continue
                problems = [self._bad_lines.pop(n) for n in range(start, reader.line_num + 1) if n in self._bad_lines]
                if problems:
                    yield Row(start, None, problems[0], ",".join(values))
                elif not values:
                    continue  # a blank line
                elif len(values) != len(header):
                    yield Row(start, None, f"{len(values)} fields where the header has {len(header)}", ",".join(values))
                else:
                    yield Row(start, dict(zip(header, values, strict=True)), None, ",".join(values))

    def _header(self, header: list[str] | None) -> list[str]:
        if not header:
            raise ConfigError(f"{self._path} is empty; a CSV file needs a header row")
        header[0] = header[0].removeprefix("\ufeff")
        for field in (self._rules.text_field, self._rules.id_field):
            if field is not None and field not in header:
                raise ConfigError(f"{self._path} has no column {field!r}; its columns: {', '.join(header)}")
        return header

    def _lines(self, f: Any) -> Iterator[str]:
        """Decoded lines, each with its line break (the CSV parser needs them inside quoted fields);
        a line that is too long or not UTF-8 is remembered and replaced by an empty one."""
        splitter = LineSplitter(self._max)
        while True:
            chunk = f.read(_CHUNK_BYTES)
            self.done += len(chunk)
            for line in splitter.feed(chunk) if chunk else splitter.end():
                if line.data is None:
                    self._bad_lines[line.number] = f"the line is longer than {self._max} bytes"
                    yield "\n"
                    continue
                try:
                    yield line.data.decode("utf-8") + "\n"
                except UnicodeDecodeError as exc:
                    self._bad_lines[line.number] = f"not valid UTF-8: {exc}"
                    yield "\n"
            if not chunk:
                return


class ParquetReader:
    unit = "rows"

    def __init__(self, path: Path, rules: RecordRules) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        self.name = str(path)
        try:
            self._file = pq.ParquetFile(path)
        except (pa.ArrowException, OSError) as exc:
            raise ConfigError(f"{path} is not a readable Parquet file: {exc}") from exc
        names = self._file.schema_arrow.names
        for field in (rules.text_field, rules.id_field):
            if field is not None and field not in names:
                raise ConfigError(f"{path} has no column {field!r}; its columns: {', '.join(names)}")
        wanted = (rules.text_field, rules.id_field, rules.lang_field)
        self._columns = [c for c in dict.fromkeys(wanted) if c is not None and c in names]
        self.total = self._file.metadata.num_rows
        self.done = 0

    def rows(self) -> Iterator[Row]:
        for batch in self._file.iter_batches(batch_size=_PARQUET_BATCH_ROWS, columns=self._columns):
            for fields in batch.to_pylist():
                self.done += 1
                yield Row(self.done, fields, None, fields)


class DocumentDirReader:
    unit = "files"

    def __init__(self, path: Path, max_chars: int, max_bytes: int = 20 * 2**20) -> None:
        self.name = str(path)
        self._root = path
        self._max_chars = max_chars
        self._max_bytes = max_bytes
        self._files = sorted(
            os.path.relpath(os.path.join(folder, name), path)
            for folder, _, names in os.walk(path)
            for name in names
            if name.lower().endswith(DOCUMENT_SUFFIXES)
        )
        if not self._files:
            raise ConfigError(f"{path} holds no documents ({', '.join(DOCUMENT_SUFFIXES)})")
        self.total = len(self._files)
        self.done = 0

    def rows(self) -> Iterator[Row]:
        for relative in self._files:
            self.done += 1
            yield self._row(self.done, relative)

    def _row(self, number: int, relative: str) -> Row:
        path = self._root / relative
        try:
            if path.stat().st_size > self._max_bytes:
                return Row(number, None, f"the file has more than {self._max_bytes} bytes", relative)
            text = extract(path.read_bytes(), relative, self._max_chars).text
        except InputError as exc:  # unreadable, or its text past the limit
            return Row(number, None, str(exc), relative)
        except OSError as exc:
            return Row(number, None, f"cannot read the file: {exc.strerror}", relative)
        return Row(number, {"text": text, FILE_FIELD: relative}, None, relative)
