"""A key's default callback, on real gateway, scorer and sink processes with API keys, keys made and
changed with `veritext keys`: a key's texts, batch lines and documents that name no callback are
delivered to its default, one that names its own goes there, another key's texts go nowhere, and
clearing the default stops it. A bad default is refused by the command."""

import json
import uuid

import httpx

from stream.embedded_broker import free_port
from tests.cli import veritext
from tests.components import pipeline_processes
from tests.helpers import wait_until
from tests.webhooks.test_delivery import NDJSON, TEXT, Receiver, receiving

WEBHOOKS = {
    "VERITEXT_AUTH": "api-keys",
    "VERITEXT_WEBHOOKS_SECRET": "deployment-secret",
    "VERITEXT_WEBHOOKS_ALLOW_PRIVATE": "true",
    "VERITEXT_WEBHOOKS_BACKOFF_S": "0.3",
}


def _key(kafka, database_url, name: str, *options: str) -> str:
    made = veritext(kafka, database_url, "keys", "create", "--name", name, "--json", *options)
    assert made.returncode == 0, made.stderr
    return json.loads(made.stdout)["key"]


def test_a_keys_default_callback_gets_what_names_none(kafka, database_url, tmp_path):
    with (
        receiving(Receiver(free_port())) as default,
        receiving(Receiver(free_port())) as own,
        pipeline_processes(kafka, database_url, tmp_path, **WEBHOOKS) as (base,),
    ):
        name = f"platform-{uuid.uuid4().hex[:6]}"
        platform = {"X-API-Key": _key(kafka, database_url, name, "--callback-url", default.url)}
        other = {"X-API-Key": _key(kafka, database_url, f"other-{uuid.uuid4().hex[:6]}")}

        def submit(headers: dict[str, str], **body: str) -> str:
            answer = httpx.post(f"{base}/v1/texts", json={"text": TEXT, **body}, headers=headers, timeout=30)
            assert answer.status_code == 202, answer.text
            return answer.json()["submission_id"]

        def delivered(receiver: Receiver) -> set[str]:
            return {json.loads(body)["submission_id"] for _, body, _ in receiver.received}

        texts = [submit(platform), submit(platform, callback_url=own.url), submit(other)]
        lines = "\n".join(json.dumps({"text": f"{TEXT} Line {n}."}) for n in range(2))
        batch = httpx.post(f"{base}/v1/batches", content=lines, headers=platform | NDJSON, timeout=30).json()
        assert batch["accepted"] == 2, batch
        files = {"file": ("essay.txt", f"{TEXT} Uploaded as a file.".encode(), "text/plain")}
        upload = httpx.post(f"{base}/v1/documents", files=files, headers=platform, timeout=30).json()

        wait_until(lambda: len(delivered(default)) >= 4 and own.received, what="the deliveries", timeout_s=60)
        assert texts[0] in delivered(default) and upload["submission_id"] in delivered(default)
        assert delivered(own) == {texts[1]} and texts[1] not in delivered(default)
        assert texts[2] not in delivered(default) | delivered(own), "another key's text has no callback"
        assert len(delivered(default)) == 4, "a text, two batch lines and a document"

        cleared = veritext(kafka, database_url, "keys", "callback", "--name", name)
        assert cleared.returncode == 0 and "no default callback" in cleared.stderr + cleared.stdout
        later = submit(platform)
        wait_until(
            lambda: httpx.get(f"{base}/v1/texts/{later}", headers=platform).json().get("status") == "scored",
            what="the later text scored",
        )
        assert httpx.get(f"{base}/v1/texts/{later}", headers=platform).json()["webhooks"] == []
        assert later not in delivered(default)


def test_a_bad_default_callback_is_refused_by_the_command(kafka, database_url):
    made = veritext(
        kafka,
        database_url,
        "keys",
        "create",
        "--name",
        f"bad-{uuid.uuid4().hex[:6]}",
        "--callback-url",
        "ftp://example.com/hook",
    )
    assert made.returncode != 0 and "--callback-url: callback_url must be an http or https URL" in made.stderr
    assert "Traceback" not in made.stderr
