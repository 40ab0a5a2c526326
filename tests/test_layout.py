"""The layout the README draws holds: schemas <- stream <- ingest / scorer / sink / bot <- veritext. The
packages between import only what is below them, never each other, and only the sink and the
composition root touch the database (SQLAlchemy, psycopg). Read from the source, nothing imported."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAY_IMPORT = {
    "schemas": set(),
    "stream": {"schemas"},
    "ingest": {"schemas", "stream"},
    "scorer": {"schemas", "stream"},
    "sink": {"schemas", "stream"},
    "bot": {"schemas", "stream"},
    "veritext": {"schemas", "stream", "ingest", "scorer", "sink", "bot"},
}
DATABASE = {"sqlalchemy", "psycopg", "alembic"}
MAY_USE_THE_DATABASE = {"sink", "veritext"}


def _imports(package: str) -> dict[str, set[str]]:
    """Each top-level module a package's files import, with the files that do."""
    found: dict[str, set[str]] = {}
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                modules = [node.module]
            else:
                continue
            for module in modules:
                found.setdefault(module.split(".")[0], set()).add(str(path.relative_to(ROOT)))
    return found


def test_each_package_imports_only_the_layers_below_it():
    for package, allowed in MAY_IMPORT.items():
        imported = _imports(package)
        ours = {m for m in imported if m in MAY_IMPORT and m != package}
        wrong = {m: sorted(imported[m]) for m in ours - allowed}
        assert not wrong, f"{package} imports {wrong}; it may import {sorted(allowed) or 'none of ours'}"


def test_only_the_sink_and_the_composition_root_touch_the_database():
    for package in set(MAY_IMPORT) - MAY_USE_THE_DATABASE:
        imported = _imports(package)
        wrong = {m: sorted(imported[m]) for m in DATABASE & set(imported)}
        assert not wrong, f"{package} uses the database directly: {wrong}"
