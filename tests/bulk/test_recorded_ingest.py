"""Bulk ingest on a volatile broker (`veritext up`'s embedded one): each chunk is recorded in the log
database before it is sent, the next chunk recorded while this one is sent. Every accepted line is
in the log; when the database cannot record a chunk, the run stops with the reason, that chunk's lines
are in the rejects file and none of them was sent. Real broker, real PostgreSQL."""

import json
import uuid

from sqlalchemy import func, select

from ingest.bulk.readers import open_reader
from ingest.bulk.records import RecordRules
from ingest.bulk.rejects import RejectsFile
from ingest.bulk.run import BulkIngest
from store.batches import SqlBatchStore
from store.db import make_engine
from store.models import Submission
from store.recorder import SqlSubmissionRecorder
from stream.producer import EventProducer, bulk_config
from stream.settings import KafkaSettings

LINES = 23
CHUNK = 5


def _run(kafka: KafkaSettings, engine, recorder_engine, tmp_path, chunk_chars: int = 1_000_000):
    path = tmp_path / "texts.jsonl"
    path.write_text("".join(json.dumps({"text": f"Bulk text {i}, recorded first."}) + "\n" for i in range(LINES)))
    reader, rules = open_reader(path, None, RecordRules())
    volatile = KafkaSettings(bootstrap=kafka.bootstrap, topic_prefix=kafka.topic_prefix, volatile=True)
    with EventProducer(volatile, bulk_config(100)) as producer:
        ingest = BulkIngest(
            producer,
            volatile.topics.submissions,
            rules,
            SqlBatchStore(engine),
            RejectsFile(tmp_path / "rejects.jsonl"),
            recorder=SqlSubmissionRecorder(recorder_engine),
            chunk_rows=CHUNK,
            chunk_chars=chunk_chars,
        )
        return ingest.run(reader), tmp_path / "rejects.jsonl"


def test_every_accepted_line_is_in_the_log(kafka, engine, tmp_path):
    summary, _ = _run(kafka, engine, engine, tmp_path)
    assert summary.stopped is None
    assert (summary.counts.accepted, summary.counts.rejected) == (LINES, 0)
    with engine.connect() as conn:
        stored = conn.scalar(select(func.count()).where(Submission.batch_id == summary.batch_id))
    assert stored == LINES


def test_a_chunk_the_database_cannot_record_is_rejected_and_never_sent(kafka, engine, tmp_path):
    unreachable = make_engine(f"postgresql://postgres@127.0.0.1:9/{uuid.uuid4().hex}", pool_size=1)
    summary, rejects = _run(kafka, engine, unreachable, tmp_path)
    unreachable.dispose()
    assert summary.stopped and "did not record" in summary.stopped
    assert summary.counts.accepted == 0, "nothing unrecorded reached the broker"
    lines = [json.loads(line)["line"] for line in rejects.read_text(encoding="utf-8").splitlines()]
    assert lines == list(range(1, CHUNK + 1)), "the first chunk's lines, to be sent again"


def test_a_chunk_ends_early_when_its_texts_reach_the_character_bound(kafka, engine, tmp_path):
    unreachable = make_engine(f"postgresql://postgres@127.0.0.1:9/{uuid.uuid4().hex}", pool_size=1)
    summary, rejects = _run(kafka, engine, unreachable, tmp_path, chunk_chars=70)  # texts of 28 characters
    unreachable.dispose()
    assert summary.counts.accepted == 0
    lines = [json.loads(line)["line"] for line in rejects.read_text(encoding="utf-8").splitlines()]
    assert lines == [1, 2, 3], "three texts reach 70 characters: the first chunk holds them alone"
