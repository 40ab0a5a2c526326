"""The test harness in a fresh clone: a test that needs the labelled data finds them through
VERITEXT_LABELLED_DATA, and without them it is skipped with a message that says how to point at them,
except under CI=true, where it fails."""

import os
import subprocess
import sys

from tests.helpers import ROOT

NEEDS_DATA = "tests/scorer/test_calibration.py::test_no_source_document_spans_two_splits"


def _pytest(tmp_path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k != "CI" and not k.startswith("VERITEXT_")}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", NEEDS_DATA],
        cwd=ROOT,
        env={**clean, "VERITEXT_LABELLED_DATA": str(tmp_path / "nowhere"), **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_without_the_labelled_data_a_test_is_skipped_locally_and_fails_in_ci(tmp_path):
    local = _pytest(tmp_path)
    assert local.returncode == 0 and "1 skipped" in local.stdout, local.stdout
    assert f"the labelled data at {tmp_path / 'nowhere'}" in local.stdout
    assert "set VERITEXT_LABELLED_DATA" in local.stdout

    ci = _pytest(tmp_path, CI="true")
    assert ci.returncode == 1 and "1 failed" in ci.stdout, ci.stdout
    assert "CI=true" in ci.stdout
