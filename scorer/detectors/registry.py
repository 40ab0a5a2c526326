"""A read-only registry of named detector factories, so callers pick a detector by a spec string.

A spec is a detector name, optionally pinned to a version: `"fast-detectgpt"` or
`"fast-detectgpt@gemma3-270m-1a2b3c4d"`; or a plug-in, `"package.module:factory"`, whose
factory takes no arguments and returns a Detector (the tests run worker processes on a model
double this way). A pinned version that differs from the one this code builds
is refused, so a replay never mixes scores of two versions under one name by accident.

Each factory imports its implementation when called: importing this module does not import torch.
"""

import importlib
from collections.abc import Callable
from pathlib import Path
from types import MappingProxyType

from schemas.errors import DetectorError
from scorer.detectors.base import Detector

__all__ = ["DEFAULT_DETECTOR", "available_detectors", "load_detector"]

DEFAULT_DETECTOR = "fast-detectgpt"


def _fast_detectgpt_versions() -> list[str]:
    from scorer.detectors.fast_detectgpt import DEFAULT_VERSION

    return [DEFAULT_VERSION]


def _fast_detectgpt(cache_dir: Path, version: str) -> Detector:
    from scorer.detectors.fast_detectgpt import FastDetectGPT

    _check_version("fast-detectgpt", version, _fast_detectgpt_versions())  # before the slow model load
    return FastDetectGPT.load(cache_dir)


# name -> factory(cache_dir, pinned version or "") -> detector
_FACTORIES: MappingProxyType[str, Callable[[Path, str], Detector]] = MappingProxyType(
    {"fast-detectgpt": _fast_detectgpt}
)
# name -> the versions its factory builds, the default first
_VERSIONS: MappingProxyType[str, Callable[[], list[str]]] = MappingProxyType(
    {"fast-detectgpt": _fast_detectgpt_versions}
)


def available_detectors(default: str = DEFAULT_DETECTOR) -> list[str]:
    """Every `NAME@VERSION` that `load_detector` accepts, the ones `default` names first."""
    specs = [f"{name}@{version}" for name in sorted(_FACTORIES) for version in _VERSIONS[name]()]
    name, at, _ = default.partition("@")
    return sorted(specs, key=lambda spec: spec != default if at else not spec.startswith(f"{name}@"))


def load_detector(spec: str = DEFAULT_DETECTOR, *, cache_dir: Path) -> Detector:
    """Build the detector `spec` names ("name" or "name@version"); raises `DetectorError` if unknown."""
    if ":" in spec:
        return _load_plugin(spec.strip())
    name, _, version = spec.strip().partition("@")
    factory = _FACTORIES.get(name)
    if factory is None:
        raise DetectorError(f"unknown detector {name!r}; known detectors: {', '.join(sorted(_FACTORIES))}")
    return factory(cache_dir, version)


def _check_version(name: str, version: str, available: list[str]) -> None:
    if version and version not in available:
        raise DetectorError(f"detector {name!r} has no version {version!r}; available versions: {', '.join(available)}")


def _load_plugin(spec: str) -> Detector:
    module_name, _, attribute = spec.partition(":")
    try:
        factory = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise DetectorError(f"cannot load detector plug-in {spec!r}: {exc}") from exc
    return factory()
