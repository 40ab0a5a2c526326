"""`GET /v1/detectors` and the `detector` field of a submission: a named detector version is scored by
its own scorer, the rest by the default one. Real broker and PostgreSQL; the models are test doubles."""

from ingest.gateway.detectors import DetectorCatalogue
from schemas.api import DetectorView
from scorer.worker import ScoringWorker
from tests.doubles import fixed_v2
from tests.helpers import running, wait_until
from tests.pipeline import pipeline

CATALOGUE = DetectorCatalogue(
    [
        DetectorView(name="fixed-double", version="double-1", spec="fixed-double@double-1", default=True, report=None),
        DetectorView(
            name="fixed-double", version="double-2", spec="fixed-double@double-2", default=False, report={"auroc": 1}
        ),
    ]
)


def _versions(client, submission_id: str) -> list[str]:
    answer = client.get(f"/v1/texts/{submission_id}")
    return [s["detector_version"] for s in answer.json()["scores"]] if answer.status_code == 200 else []


def test_a_submission_naming_a_detector_is_scored_by_that_one_only(kafka, engine):
    from tests.doubles import fixed

    named_scorer = ScoringWorker(kafka, fixed_v2(), group_id=f"{kafka.topic_prefix}-scorer-v2", serves_unnamed=False)
    with pipeline(kafka, engine, detector=fixed(), detectors=CATALOGUE) as p, running(named_scorer):
        listed = p.client.get("/v1/detectors").json()
        assert listed["count"] == 2 and [d["default"] for d in listed["data"]] == [True, False]
        assert listed["data"][1]["report"] == {"auroc": 1}
        default = p.client.post("/v1/texts", json={"text": "Scored by the default."}).json()["submission_id"]
        named = p.client.post("/v1/texts", json={"text": "Scored by v2.", "detector": "double-2"}).json()
        explicit_default = p.client.post(
            "/v1/texts", json={"text": "Named default.", "detector": "fixed-double@double-1"}
        )
        wait_until(lambda: _versions(p.client, default) == ["double-1"], timeout_s=60)
        wait_until(lambda: _versions(p.client, named["submission_id"]) == ["double-2"], timeout_s=60)
        wait_until(lambda: _versions(p.client, explicit_default.json()["submission_id"]) == ["double-1"], timeout_s=60)
        unknown = p.client.post("/v1/texts", json={"text": "Nobody runs it.", "detector": "gpt-zero"})
        assert unknown.status_code == 422 and "fixed-double@double-2" in unknown.json()["detail"]
        batch = p.client.post(
            "/v1/batches",
            content=b'{"text": "ok", "detector": "double-2"}\n{"text": "no", "detector": "nope"}\n',
            headers={"content-type": "application/x-ndjson"},
        ).json()
        assert (batch["accepted"], batch["rejected"]) == (1, 1) and "detector" in batch["rejects"][0]["reason"]
        assert _versions(p.client, default) == ["double-1"], "the named scorer left the default's text alone"


def test_the_detectors_page_shows_the_shipped_report_with_its_empty_cells(kafka, engine):
    """The page read from the real committed report, not a double's: held-out folds of one label have
    no AUROC (null), which once made this page a 500."""
    from html import escape

    from fastapi.testclient import TestClient

    from ingest.gateway.app import create_app
    from ingest.gateway.settings import GatewaySettings
    from scorer.detectors.registry import describe_detector
    from store.batches import SqlBatchStore
    from store.pages import SqlPageReads
    from store.queries import SqlSubmissionStore

    info = describe_detector("probe")
    assert any(m["auroc"] is None for m in info.report["held_out"].values()), "the report has a fold of one label"
    assert info.report["robustness"]["detector"] == info.report["detector"], "the attacks measured on this version"
    weak = info.report["weak"]
    assert any(line.startswith("generator:base-lm") for line in weak) and any("co-written" in line for line in weak)
    shipped = DetectorCatalogue(
        [DetectorView(name=info.name, version=info.version, spec=info.spec, default=True, report=info.report)]
    )
    app = create_app(
        GatewaySettings(),
        kafka,
        SqlSubmissionStore(engine),
        SqlBatchStore(engine),
        detectors=shipped,
        pages=SqlPageReads(engine, status=dict),
    )
    with TestClient(app, raise_server_exceptions=False) as client:
        page = client.get("/detectors")
    assert page.status_code == 200, page.text
    assert info.spec in page.text and all(fold in page.text for fold in info.report["held_out"])
    assert all(escape(line) in page.text for line in weak), "the weak list is on the page"
