"""schemathesis fuzzes the gateway from its own OpenAPI schema (NDJSON bodies for `POST /v1/batches`
through a serializer of their own) over real HTTP (uvicorn), on a real broker and PostgreSQL with the
model double: no answer is a 5xx, and every answer matches its declared schema and content type."""

import json
import threading

import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from ingest.documents.objects import ObjectStore
from ingest.documents.shelf import DocumentShelf
from ingest.gateway import GatewaySettings, create_app
from ingest.gateway.routes_batches import NDJSON_TYPES
from scorer.worker import ScoringWorker
from sink.worker import SinkWorker
from store.batches import SqlBatchStore
from store.documents import SqlDocumentStore
from store.queries import SqlSubmissionStore
from stream.embedded_broker import free_port
from stream.settings import KafkaSettings
from tests.doubles import FixedScoreDetector
from tests.helpers import running, wait_until

# the schema alone: an app that is never started describes the same routes
schema = schemathesis.openapi.from_dict(create_app(GatewaySettings(), KafkaSettings(), None, None).openapi())


@schemathesis.serializer(*NDJSON_TYPES)
def _ndjson(_ctx, value) -> bytes:
    lines = value if isinstance(value, list) else [value]
    return b"".join(json.dumps(line).encode() + b"\n" for line in lines)


@pytest.fixture
def gateway_url(kafka, engine, tmp_path):
    """The gateway served by uvicorn, with a sink and a scorer (the double) on the same topics."""
    documents = DocumentShelf(SqlDocumentStore(engine), ObjectStore(tmp_path.as_uri()))
    app = create_app(
        GatewaySettings(sync_timeout_s=10),
        kafka,
        SqlSubmissionStore(engine),
        SqlBatchStore(engine),
        documents=documents,
    )
    group = kafka.topic_prefix
    with (
        running(SinkWorker(kafka, engine, group_id=f"{group}-sink")),
        running(ScoringWorker(kafka, FixedScoreDetector(), group_id=f"{group}-scorer")),
    ):
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(app, port=port, log_config=None))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        wait_until(lambda: server.started, timeout_s=30)
        yield f"http://127.0.0.1:{port}"
        server.should_exit = True
        thread.join(10)


@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_gateway_answers_every_generated_request_without_a_5xx(case, gateway_url):
    case.call_and_validate(
        base_url=gateway_url, checks=[not_a_server_error, response_schema_conformance, content_type_conformance]
    )
