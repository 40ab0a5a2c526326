"""The components as separate processes, as in a deployment (`veritext gateway|scorer|sink` on a
real broker and PostgreSQL; the model is the double): each serves its metrics over HTTP, logs
one JSON object per line when its output is not a terminal, and one submission can be followed
by its id through the logs of all three."""

import json
from contextlib import ExitStack
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from stream.embedded_broker import free_port
from stream.settings import KafkaSettings
from tests.components import answers, component, component_env
from tests.helpers import wait_until


def _metric(url: str, name: str, labels: dict[str, str]) -> float | None:
    for family in text_string_to_metric_families(httpx.get(url, timeout=5).text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return sample.value
    return None


def _json_lines(log: Path) -> list[dict]:
    lines = [line for line in log.read_text().splitlines() if line.strip()]
    records = []
    for line in lines:
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            raise AssertionError(f"{log.name}: not a JSON line: {line!r}") from None
    return records


def test_components_serve_metrics_and_one_text_is_followed_through_their_json_logs(
    kafka: KafkaSettings, database_url: str, tmp_path: Path
) -> None:
    ports = {name: free_port() for name in ("gateway", "scorer", "sink")}
    env = component_env(
        kafka,
        database_url,
        VERITEXT_GATEWAY_PORT=str(ports["gateway"]),
        VERITEXT_SCORER_METRICS_PORT=str(ports["scorer"]),
        VERITEXT_SINK_METRICS_PORT=str(ports["sink"]),
    )
    base = f"http://127.0.0.1:{ports['gateway']}"
    metrics = {name: f"http://127.0.0.1:{port}/metrics" for name, port in ports.items()}
    logs = {name: tmp_path / f"{name}.log" for name in ports}

    with ExitStack() as stack:
        processes = {name: stack.enter_context(component(name, env, logs[name])) for name in ports}

        def up() -> bool:
            dead = [n for n, p in processes.items() if p.poll() is not None]
            assert not dead, f"{dead} exited: " + " ".join(logs[n].read_text()[-2000:] for n in dead)
            return answers(f"{base}/readyz") and all(
                answers(f"http://127.0.0.1:{ports[n]}/healthz") for n in ("scorer", "sink")
            )

        wait_until(up, timeout_s=90, interval_s=0.5, what="gateway ready, scorer and sink answering /healthz")
        answer = httpx.post(f"{base}/v1/texts?wait=30", json={"text": "Follow me through the pipeline."}, timeout=40)
        assert answer.status_code == 200, answer.text
        submission_id = answer.json()["submission_id"]
        wait_until(lambda: httpx.get(f"{base}/v1/texts/{submission_id}").json().get("status") == "scored")

        route = {"method": "POST", "route": "/v1/texts", "status": "200"}
        assert _metric(metrics["gateway"], "veritext_gateway_requests_total", route) == 1
        assert _metric(metrics["scorer"], "veritext_scorer_texts_total", {"detector": "fixed-double@double-1"}) == 1
        assert _metric(metrics["sink"], "veritext_sink_rows_written_total", {"table": "scores"}) == 1
        for name in ports:
            assert (_metric(metrics[name], "process_resident_memory_bytes", {}) or 0) > 0, name
        assert httpx.get(f"http://127.0.0.1:{ports['scorer']}/nothing-here").status_code == 404

    records = {name: _json_lines(log) for name, log in logs.items()}
    for name, lines in records.items():
        assert lines, f"{name} logged nothing"
        assert all({"time", "level", "logger", "message"} <= set(r) for r in lines), name
    about = {name: [r for r in lines if r.get("submission_id") == submission_id] for name, lines in records.items()}
    assert about["gateway"][0]["logger"] == "ingest.gateway.submit"  # accepted
    assert {r["route"] for r in about["gateway"][1:]} == {"/v1/texts/{submission_id}"}  # the reads, in the access log
    assert [r["logger"] for r in about["scorer"]] == ["scorer.scoring"]  # shared by the worker and replay
    assert about["scorer"][0]["message"].startswith("scored submission")
    sink_lines = sorted(r["message"] for r in about["sink"])
    assert len(sink_lines) == 2, sink_lines
    assert sink_lines[0].startswith("stored score of submission") and sink_lines[1].startswith("stored submission")
    assert all(submission_id in r["message"] for lines in about.values() for r in lines)
