"""requirements.lock, which `make install` (and so CI) installs with --require-hashes, holds every
dependency pyproject.toml names, at a version its range allows, with a hash: a dependency added or
moved without `make lock` fails here, not on a fresh machine."""

import re
import tomllib

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from tests.ops.catalogue import ROOT


def _locked() -> dict[str, tuple[Version, int]]:
    """name -> (pinned version, number of hashes)."""
    text = (ROOT / "requirements.lock").read_text()
    found = {}
    for block in re.split(r"\n(?=[a-z0-9])", text):
        pin = re.match(r"([A-Za-z0-9_.-]+)==(\S+)", block)
        if pin:
            found[canonicalize_name(pin.group(1))] = (Version(pin.group(2)), block.count("--hash=sha256:"))
    return found


def test_every_dependency_is_locked_within_its_range_and_hashed():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = [Requirement(r) for r in [*project["dependencies"], *project["optional-dependencies"]["dev"]]]
    locked = _locked()
    for requirement in wanted:
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{requirement.name} is not in requirements.lock: run `make lock`"
        version, hashes = locked[name]
        assert requirement.specifier.contains(version, prereleases=True), f"{name} {version} not in {requirement}"
        assert hashes, f"{name} has no hash"
    assert all(hashes for _, hashes in locked.values())
    assert locked["torch"][0].local == "cpu", "the CPU build of torch (a CUDA one is several GB)"
