"""A whole pipeline in one test process: the gateway app (TestClient), a scorer and a sink,
each on real Kafka and PostgreSQL; only the detector is chosen by the test."""

import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from ingest.backlog import BacklogMonitor
from ingest.documents.objects import ObjectStore
from ingest.documents.shelf import DocumentShelf
from ingest.gateway import GatewaySettings, create_app
from ingest.gateway.detectors import DetectorCatalogue
from schemas.webhooks import WebhookSettings
from scorer.detectors.base import Detector
from scorer.worker import ScoringWorker
from sink.worker import SinkWorker
from store.batches import SqlBatchStore
from store.documents import SqlDocumentStore
from store.models import Score, Submission
from store.queries import SqlSubmissionStore
from stream.settings import KafkaSettings
from tests.helpers import running

__all__ = ["Pipeline", "count_rows", "pipeline", "status_of"]


@dataclass
class Pipeline:
    client: TestClient
    kafka: KafkaSettings
    engine: Engine
    sink: SinkWorker
    scorer: ScoringWorker | None


def count_rows(engine: Engine) -> tuple[int, int]:
    """(submissions, scores) in the log."""
    with Session(engine) as s:
        return (
            s.scalar(select(func.count()).select_from(Submission)) or 0,
            s.scalar(select(func.count()).select_from(Score)) or 0,
        )


def status_of(client: TestClient, submission_id: str) -> str | None:
    """The submission's status as the API reports it, or None while the log does not have it."""
    answer = client.get(f"/v1/texts/{submission_id}")
    return answer.json()["status"] if answer.status_code == 200 else None


@contextmanager
def pipeline(
    kafka: KafkaSettings,
    engine: Engine,
    detector: Detector | None,
    gateway: GatewaySettings | None = None,
    max_batch: int = 16,
    detectors: DetectorCatalogue | None = None,
    backlog_limit: int = 0,
    documents: ObjectStore | None = None,
    webhooks: WebhookSettings | None = None,
) -> Iterator[Pipeline]:
    """Gateway + sink, and a scorer unless `detector` is None; `detectors` is what the gateway is told
    the scorers run; `backlog_limit` bounds the scorer group's backlog (read every 0.2 s); `documents`:
    where uploaded originals are kept (None: a folder of the test's own); `webhooks`: the sink delivers
    callbacks (None: webhooks are off)."""
    folder = tempfile.TemporaryDirectory(prefix="veritext-documents-")
    app = create_app(
        gateway or GatewaySettings(sync_timeout_s=30),
        kafka,
        SqlSubmissionStore(engine),
        SqlBatchStore(engine),
        detectors=detectors,
        backlog=BacklogMonitor(kafka, f"{kafka.topic_prefix}-scorer", backlog_limit, interval_s=0.2),
        documents=DocumentShelf(SqlDocumentStore(engine), documents or ObjectStore(Path(folder.name).as_uri())),
        webhooks=webhooks,
    )
    with folder, ExitStack() as stack:
        sink = SinkWorker(kafka, engine, group_id=f"{kafka.topic_prefix}-sink", webhooks=webhooks)
        stack.enter_context(running(sink))
        scorer = None
        if detector is not None:
            scorer = ScoringWorker(kafka, detector, group_id=f"{kafka.topic_prefix}-scorer", max_batch=max_batch)
            stack.enter_context(running(scorer))
        client = stack.enter_context(TestClient(app, raise_server_exceptions=False))
        yield Pipeline(client, kafka, engine, sink, scorer)
