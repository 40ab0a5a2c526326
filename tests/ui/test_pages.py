"""The web page in a real browser: headless Chromium (Debian's, driven by playwright) loads the page
from running gateway, sink and scorer processes (the per-sentence model double), checks a text and sees
the percentage and its sentences, watches the recent list grow, follows a batch and downloads its CSV,
reads the detectors, compares two versions, uploads a document (and an encrypted one, refused with
its reason), prints the verdict's report to PDF and downloads it, and reads the health; with API keys it
logs in first, and every page reads in Russian too."""

import csv
import io
import json
import re
import shutil
import unicodedata
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session

from store.db import make_engine
from store.models import Score
from tests.cli import veritext
from tests.components import pipeline_processes
from tests.documents.files import docx_bytes, pdf_bytes
from tests.helpers import unavailable

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
TEXT = (
    "The committee met on Tuesday to discuss the budget for the new library. Members agreed to postpone "
    "the vote until the next session! Did anyone ask for longer opening hours on weekends?"
)
SENTENCES = "tests.doubles:sentences_fixed"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        unavailable(f"chromium at {CHROMIUM} (`make install` installs Debian's package)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="en-GB", viewport={"width": 1100, "height": 800})
    yield context.new_page()
    context.close()


def _check(page: Page, base: str, text: str) -> None:
    page.goto(f"{base}/")
    page.fill("textarea", text)
    page.click("#check button")
    expect(page.locator(".probability")).to_have_text(re.compile(r"^[<>]?\d{1,2}%$"), timeout=30_000)


def test_check_a_text_see_it_live_follow_a_batch_and_read_the_detectors(page: Page, kafka, database_url, tmp_path):
    with pipeline_processes(kafka, database_url, tmp_path, VERITEXT_SCORER_DETECTOR=SENTENCES) as (base,):
        _check(page, base, TEXT)
        sentences = page.locator(".sentence[data-probability]")
        expect(sentences).to_have_count(3)
        assert "".join(sentences.all_inner_texts()) == TEXT
        for sentence in sentences.all():
            assert 0 <= float(sentence.get_attribute("data-probability")) <= 1
            assert "hsl(" in sentence.get_attribute("style")
        expect(page.locator(".label")).to_have_text(re.compile("likely (machine|human)-written"))
        expect(page.locator(".version")).to_have_text("fixed-double@sentences-1")
        page.screenshot(path=str(tmp_path / "web-page.png"), full_page=True)  # docs/web-page.png

        checked = page.url.split("/texts/")[1].split("?")[0]
        _replayed_score(database_url, checked, "likelihood", "replayed-1")  # as a replay with another model leaves
        page.goto(f"{base}/recent")
        expect(page.locator("#recent li")).to_have_count(2)
        expect(page.locator("#recent li .version")).to_have_text(["likelihood@replayed-1", "fixed-double@sentences-1"])
        page.locator("#recent li a").first.click()
        expect(page.locator(".verdict .version")).to_have_text("likelihood@replayed-1")
        page.locator(".others a").click()
        expect(page.locator(".verdict .version")).to_have_text("fixed-double@sentences-1")

        page.goto(f"{base}/recent")
        page.wait_for_timeout(500)  # the event stream connects
        arrived = httpx.post(f"{base}/v1/texts", json={"text": "A second text arrives while the list is open."})
        assert arrived.status_code == 202
        expect(page.locator("#recent li")).to_have_count(3, timeout=20_000)
        expect(page.locator("#recent li .version").first).to_have_text("fixed-double@sentences-1")
        page.locator("#recent li a").first.click()
        expect(page.locator(".probability")).to_be_visible()
        assert arrived.json()["submission_id"] in page.url

        lines = "\n".join(json.dumps({"text": f"Line {n} of a batch. It has two sentences."}) for n in range(3))
        batch = httpx.post(f"{base}/v1/batches", content=lines, headers={"content-type": "application/x-ndjson"}).json()
        page.goto(f"{base}/batches")
        page.click(f"a[href='/batches/{batch['batch_id']}']")
        expect(page.locator(".status")).to_have_text("scored", timeout=30_000)
        expect(page.locator(".scored")).to_have_text("3")
        with page.expect_download() as download:
            page.click("a[download]")
        rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8-sig"))))
        assert len(rows) == 3 and {r["batch_id"] for r in rows} == {batch["batch_id"]}

        page.goto(f"{base}/detectors")
        expect(page.locator(".detector h2")).to_contain_text("fixed-double@sentences-1")
        page.fill("input[name=a]", "fixed-double@sentences-1")
        page.fill("input[name=b]", "fixed-double@sentences-1")
        page.click("form.compare button")
        expect(page.locator(".comparison .both")).to_have_text(
            "5"
        )  # the checked text, the one that arrived, the batch's 3
        page.fill("input[name=b]", "nobody@nothing")
        page.click("form.compare button")
        expect(page.locator(".error")).to_contain_text("no scores by detector 'nobody@nothing'")

        page.goto(f"{base}/")
        essay = docx_bytes(["A first paragraph of an essay. It has two sentences.", "And a second paragraph."])
        page.set_input_files("#document", files=[{"name": "essay.docx", "mimeType": DOCX, "buffer": essay}])
        page.click("#upload button")
        expect(page.locator(".probability")).to_have_text(re.compile(r"^[<>]?\d{1,2}%$"), timeout=30_000)
        expect(page.locator(".sentence[data-probability]")).to_have_count(3)
        page.click("a.report")  # the printable report: its own page, a clean PDF when printed
        expect(page.locator("section.caveat h2")).to_have_text("What this cannot tell")
        expect(page.locator(".sentence[data-probability]")).to_have_count(3)
        page.emulate_media(media="print")
        printed = unicodedata.normalize("NFKC", PdfReader(io.BytesIO(page.pdf())).pages[0].extract_text())
        assert "What this cannot tell" in printed and "A first paragraph of an essay" in printed
        assert "Download the report" not in printed and "Recent" not in printed, "no links nor navigation in print"
        page.emulate_media(media="screen")
        with page.expect_download() as download:
            page.click("a[href='?download=1']")
        assert "What this cannot tell" in Path(download.value.path()).read_text(encoding="utf-8")
        locked = pdf_bytes(["A secret."], password="pw")
        page.goto(f"{base}/")
        page.set_input_files("#document", files=[{"name": "a.pdf", "mimeType": "application/pdf", "buffer": locked}])
        page.click("#upload button")
        expect(page.locator(".error")).to_contain_text("the PDF is encrypted")

        page.goto(f"{base}/health")
        expect(page.locator(".waiting")).to_have_text("0", timeout=20_000)
        page.goto(f"{base}/health?lang=ru")
        expect(page.locator("nav")).to_contain_text("Проверить текст")
        page.goto(f"{base}/")
        expect(page.locator("#check button")).to_have_text("Проверить")  # the choice is remembered
        page.fill("textarea", "   ")
        page.click("#check button")
        expect(page.locator(".error")).to_contain_text("non-whitespace")


def test_with_api_keys_the_page_asks_for_a_key_and_shows_only_the_tenants_texts(
    page: Page, kafka, database_url, tmp_path
):
    name = f"web-{uuid.uuid4().hex[:6]}"
    made = veritext(kafka, database_url, "keys", "create", "--name", name, "--json")
    key = json.loads(made.stdout)["key"]
    with pipeline_processes(
        kafka,
        database_url,
        tmp_path,
        VERITEXT_AUTH="api-keys",
        VERITEXT_SCORER_DETECTOR=SENTENCES,
    ) as (base,):
        other = veritext(kafka, database_url, "keys", "create", "--name", f"{name}-other", "--json")
        theirs = httpx.post(
            f"{base}/v1/texts?wait=20", json={"text": TEXT}, headers={"X-API-Key": json.loads(other.stdout)["key"]}
        ).json()["submission_id"]

        page.goto(f"{base}/recent")
        assert "/login" in page.url
        page.fill("input[name=key]", "vtk_wrong")
        page.click("#login button")
        expect(page.locator(".error")).to_contain_text("not a veritext API key")
        page.fill("input[name=key]", key)
        page.click("#login button")
        assert page.url.endswith("/recent")
        expect(page.locator("#recent .empty")).to_be_visible()  # the other tenant's text is not listed
        _check(page, base, TEXT)
        expect(page.locator(".sentence[data-probability]")).to_have_count(3)
        page.goto(f"{base}/texts/{theirs}")
        expect(page.locator(".error")).to_contain_text("no submission")
        page.goto(f"{base}/health")  # deployment-wide totals and others' failures: admin only
        expect(page.locator(".error")).to_contain_text("admin")
        expect(page.locator("table.health")).to_have_count(0)
        page.click("text=Log out")
        page.goto(f"{base}/")
        assert "/login" in page.url


def _replayed_score(database_url: str, submission_id: str, name: str, version: str) -> None:
    """A later score of the submission by another detector version."""
    engine = make_engine(database_url, pool_size=1)
    with Session(engine) as session, session.begin():
        first = session.scalars(select(Score).where(Score.submission_id == uuid.UUID(submission_id))).one()
        session.add(
            Score(
                submission_id=first.submission_id,
                detector_name=name,
                detector_version=version,
                probability=0.004,
                label="human",
                n_tokens=first.n_tokens,
                lang=first.lang,
                latency_ms=1.0,
                submitted_at=first.submitted_at,
                scored_at=datetime.now(UTC),
            )
        )
    engine.dispose()
