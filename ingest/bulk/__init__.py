"""Bulk ingestion: read a JSONL, CSV or Parquet file or a directory of .txt files, and write one
submission event per good record to [submissions], all under one batch id.

It streams: records are read a chunk at a time and the producer's local queue is bounded, so
memory stays flat whatever the file size, and a slow broker slows the reader down. A bad record
never aborts the run; it goes to the rejects file with its line number and the reason.
"""

from ingest.bulk.ledger import BatchLedger, HashIndex
from ingest.bulk.readers import FORMATS, Reader, open_reader
from ingest.bulk.records import RecordRules
from ingest.bulk.rejects import RejectsFile
from ingest.bulk.run import BulkIngest, IngestCounts, IngestSummary

__all__ = [
    "FORMATS",
    "BatchLedger",
    "BulkIngest",
    "HashIndex",
    "IngestCounts",
    "IngestSummary",
    "Reader",
    "RecordRules",
    "RejectsFile",
    "open_reader",
]
