"""Originals in an S3-compatible store: a real S3-protocol server on loopback (moto in server mode, spoken
to over HTTP by obstore, as AWS S3 or MinIO would be). The round trip, a document upload that keeps its
original in the bucket and a delete that removes it, and a store that does not answer: a fast 503, and
nothing submitted."""

import asyncio
import time
from collections.abc import Iterator

import boto3
import pytest
from moto.server import ThreadedMotoServer

from ingest.documents.objects import ObjectStore
from stream.embedded_broker import free_port
from tests.documents.files import pdf_bytes
from tests.doubles import SentenceScoreDetector
from tests.helpers import wait_until
from tests.pipeline import count_rows, pipeline

BUCKET = "veritext-documents"


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, ThreadedMotoServer]]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    endpoint = "http://{}:{}".format(*server.get_host_and_port())
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(Bucket=BUCKET)
    try:
        yield endpoint, server
    finally:
        server.stop()


def _keys(endpoint: str) -> list[str]:
    listed = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").list_objects_v2(Bucket=BUCKET)
    return [item["Key"] for item in listed.get("Contents", [])]


def test_put_get_delete_on_an_s3_protocol_server(s3):
    endpoint, _ = s3
    store = ObjectStore(f"s3://{BUCKET}/originals", endpoint=endpoint, allow_http=True)

    async def round_trip() -> None:
        await store.put("tenant/doc", b"%PDF- the bytes")
        assert _keys(endpoint) == ["originals/tenant/doc"]
        assert await store.get("tenant/doc") == b"%PDF- the bytes"
        await store.delete("tenant/doc")
        await store.delete("tenant/doc")
        assert await store.get("tenant/doc") is None and _keys(endpoint) == []

    asyncio.run(round_trip())


def test_an_upload_keeps_its_original_in_the_bucket_until_its_owner_deletes_it(kafka, engine, s3):
    endpoint, _ = s3
    store = ObjectStore(f"s3://{BUCKET}/originals", endpoint=endpoint, allow_http=True)
    data = pdf_bytes(["A page of an essay, sent as a PDF. It has two sentences."])
    with pipeline(kafka, engine, SentenceScoreDetector(), documents=store) as p:
        accepted = p.client.post("/v1/documents", files={"file": ("essay.pdf", data)}).json()
        (key,) = _keys(endpoint)
        assert key.startswith("originals/_/" + accepted["document_id"])
        wait_until(lambda: p.client.get(accepted["href"]).json()["status"] == "scored")
        assert p.client.delete(accepted["href"]).status_code == 204
        assert _keys(endpoint) == []


def test_a_store_that_does_not_answer_gets_a_fast_503_and_nothing_is_submitted(kafka, engine, s3):
    endpoint, server = s3
    store = ObjectStore(f"s3://{BUCKET}/originals", endpoint=endpoint, allow_http=True, timeout_s=1)
    server.stop()
    with pipeline(kafka, engine, detector=None, documents=store) as p:
        started = time.monotonic()
        answer = p.client.post("/v1/documents", files={"file": ("a.txt", b"A text file.")})
        assert answer.status_code == 503 and "object store" in answer.json()["detail"]
        assert answer.headers["retry-after"] and time.monotonic() - started < 10
        assert count_rows(engine) == (0, 0)
