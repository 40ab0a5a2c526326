"""The documentation holds: the README is a quickstart whose links resolve, the docs site builds with
no broken link (mkdocs --strict), every command of the CLI and every route of the API is documented,
and every shell example of the pages runs as written against a pipeline with the shipped detector and
prints what the page shows (VERITEXT_RECORD_DOCS=1 writes what it printed back instead)."""

import json
import os
import re
import shutil
import subprocess
import sys
import time

import httpx
import pytest

from scorer.settings import ScorerSettings
from stream.embedded_broker import free_port
from tests.components import answers, pipeline_processes
from tests.examples import (
    answers_match,
    as_line,
    keep_abridged,
    learn_ids,
    read_examples,
    shell_command,
    with_ids,
    write_examples,
)
from tests.helpers import ROOT, unavailable, wait_until
from tests.ops.catalogue import cli_commands, settings_variables

DOCS = ROOT / "docs"
EXAMPLE_PAGES = [DOCS / "api.md", DOCS / "bulk.md"]
RECORD = os.environ.get("VERITEXT_RECORD_DOCS") == "1"


def test_the_readme_is_a_quickstart_whose_links_resolve():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 200, "the README is the first screen: the manual lives in docs/"
    for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", readme):
        assert (ROOT / target).exists(), f"the README links to {target}, which is not there"
    assert ".venv/bin/veritext" in readme and "make shell" in readme, "how to reach the CLI"
    assert "VERITEXT_LABELLED_DATA" in readme, "where the tests find the labelled data"


def test_the_docs_site_builds_with_no_broken_link(tmp_path):
    built = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    assert (tmp_path / "site" / "api" / "index.html").exists()


def test_every_setting_is_documented():
    pages = " ".join(page.read_text(encoding="utf-8") for page in DOCS.rglob("*.md"))
    missing = [name for name in sorted(settings_variables()) if f"`{name}`" not in pages]
    assert not missing, f"no page of docs/ names {missing}"


def test_every_command_is_in_the_command_line_page():
    page = (DOCS / "cli.md").read_text(encoding="utf-8")
    missing = [c for c in sorted(cli_commands()) if f"veritext {c}" not in page]
    assert not missing, f"docs/cli.md does not describe {missing}"


@pytest.mark.model
def test_every_example_runs_as_written_and_prints_what_the_page_shows(kafka, database_url, tmp_path):
    if shutil.which("curl") is None:
        unavailable("curl (the examples are curl commands)")
    scorer_port = free_port()
    env = {
        "VERITEXT_SCORER_DETECTOR": ScorerSettings.model_fields["detector"].default,
        "VERITEXT_SCORER_METRICS_PORT": str(scorer_port),
    }
    with pipeline_processes(kafka, database_url, tmp_path, **env) as (base,):
        wait_until(lambda: answers(f"http://127.0.0.1:{scorer_port}/healthz"), timeout_s=600, what="the model")
        routes = httpx.get(f"{base}/openapi.json").json()["paths"]
        api_page = (DOCS / "api.md").read_text(encoding="utf-8")
        assert not [r for r in routes if f"{r}`" not in api_page], "every route is in the table of docs/api.md"

        problems = []
        for page in EXAMPLE_PAGES:
            examples = read_examples(page)
            ids: dict[str, str] = {}
            for example in examples:
                example.command = with_ids(example.command, ids)
                recorded = json.loads(with_ids(example.answer, ids))
                actual = _run(shell_command(example), base, recorded)
                learn_ids(recorded, actual, ids)
                differences = answers_match(json.loads(with_ids(example.answer, ids)), actual)
                if RECORD:
                    example.answer = as_line(keep_abridged(recorded, actual))
                elif differences:
                    problems.append(f"{page.name}: {example.command.splitlines()[0]}\n  " + "\n  ".join(differences))
            if RECORD:
                write_examples(page, examples)
    assert not problems, "the pages show other answers than these (VERITEXT_RECORD_DOCS=1 re-records):\n" + "\n".join(
        problems
    )


def _run(command: str, base: str, recorded: object) -> object:
    """The command's answer, as JSON. A read whose answer the page shows in a state (`status`) is asked
    again until it is in that state, as a client polls: the text may not be stored or scored yet."""
    wanted = recorded.get("status") if isinstance(recorded, dict) else None
    deadline = time.monotonic() + 120
    while True:
        done = subprocess.run(
            ["bash", "-c", command.replace("localhost:8000", base.removeprefix("http://"))],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, f"{command}\n{done.stderr}"
        actual = json.loads(done.stdout)
        got = actual.get("status") if isinstance(actual, dict) else None
        if wanted is None or got == wanted or "-X POST" in command or time.monotonic() > deadline:
            return actual
        time.sleep(0.5)
