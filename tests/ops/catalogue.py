"""What the code defines, found at test time, for the static checks of the deployment files: every
`VERITEXT_*` variable a settings class reads, the CLI's commands, and the metric names the
components expose. Nothing is listed by hand, so a new settings class or metric is checked too."""

import ast
import importlib
from dataclasses import dataclass
from pathlib import Path

import typer.main
from pydantic_settings import BaseSettings

__all__ = ["ROOT", "SettingsVariable", "cli_commands", "exposed_metric_names", "settings_classes", "settings_variables"]

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("schemas", "stream", "ingest", "scorer", "lab", "store", "sink", "bot", "veritext")


@dataclass(frozen=True)
class SettingsVariable:
    name: str  # e.g. VERITEXT_GATEWAY_PORT
    owner: str  # the settings class
    required: bool


def _modules_declaring_settings() -> list[str]:
    """Modules with a class whose base is named `...Settings` (a BaseSettings subclass or a
    subclass of one), found by parsing, so no module is imported that does not declare settings."""
    modules = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text(), filename=str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.ClassDef) and any(
                    (isinstance(b, ast.Name) and b.id.endswith("Settings"))
                    or (isinstance(b, ast.Attribute) and b.attr.endswith("Settings"))
                    for b in node.bases
                ):
                    modules.append(".".join(path.relative_to(ROOT).with_suffix("").parts))
                    break
    return modules


def settings_classes() -> list[type[BaseSettings]]:
    for module in _modules_declaring_settings():
        importlib.import_module(module)
    found, pending = [], list(BaseSettings.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.__module__.split(".")[0] in PACKAGES and cls.model_config.get("env_prefix"):
            found.append(cls)  # a class without a prefix is a base the others share (WorkerSettings)
    return sorted(set(found), key=lambda c: f"{c.__module__}.{c.__qualname__}")


def settings_variables() -> dict[str, SettingsVariable]:
    variables = {}
    for cls in settings_classes():
        prefix = cls.model_config.get("env_prefix", "")
        for field_name, field in cls.model_fields.items():
            alias = field.validation_alias if isinstance(field.validation_alias, str) else None
            name = (alias or f"{prefix}{field_name}").upper()
            variables[name] = SettingsVariable(name, cls.__qualname__, field.is_required())
    return variables


def cli_commands() -> set[str]:
    from veritext.cli import app

    return set(typer.main.get_command(app).commands)  # type: ignore[attr-defined]


def exposed_metric_names() -> set[str]:
    """Every sample name the gateway, scorer, sink and bridge registries can expose (`_total`, `_bucket`...)."""
    from bot.metrics import BotMetrics
    from ingest.bridge.metrics import BridgeMetrics
    from ingest.gateway.metrics import GatewayMetrics
    from scorer.metrics import ScorerMetrics
    from sink.metrics import SinkMetrics

    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum"), "summary": ("_count", "_sum")}
    names = set()
    registries = (GatewayMetrics(), ScorerMetrics("g"), SinkMetrics("g"), BridgeMetrics(), BotMetrics())
    for registry in (metrics.registry for metrics in registries):
        for family in registry.collect():
            names.update(family.name + s for s in suffixes.get(family.type, ("",)))
            names.update(sample.name for sample in family.samples)
    return names
