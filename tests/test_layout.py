"""The layout docs/architecture.md draws holds: schemas <- stream <- ingest / scorer / sink / store / bot <- lab,
veritext. The packages between import only what is below them and never each other, except that the
sink writes through the store; only the store touches the database (SQLAlchemy's ORM and SQL, Alembic,
psycopg), the others at most hold an `Engine` to pass on, and the composition root also starts the
embedded PostgreSQL (psycopg). Read from the source, nothing imported."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAY_IMPORT = {
    "schemas": set(),
    "stream": {"schemas"},
    "ingest": {"schemas", "stream"},
    "scorer": {"schemas", "stream"},
    "store": {"schemas", "stream"},
    "sink": {"schemas", "stream", "store"},
    "bot": {"schemas", "stream"},
    "lab": {"schemas", "scorer"},
    "veritext": {"schemas", "stream", "ingest", "scorer", "sink", "store", "bot", "lab"},
}
DATABASE = ("sqlalchemy", "psycopg", "alembic")
MAY_HOLD_AN_ENGINE = {"sink", "veritext"}  # `from sqlalchemy import Engine`, nothing else
MAY_START_POSTGRES = {"veritext"}  # psycopg, to create the embedded server's database


def _imports(package: str) -> dict[str, set[str]]:
    """Each module a package's files import (`module` or `module:name` for `from module import name`),
    with the files that do."""
    found: dict[str, set[str]] = {}
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                modules = [f"{node.module}:{alias.name}" for alias in node.names]
            else:
                continue
            for module in modules:
                found.setdefault(module, set()).add(str(path.relative_to(ROOT)))
    return found


def test_each_package_imports_only_the_layers_below_it():
    for package, allowed in MAY_IMPORT.items():
        imported: dict[str, set[str]] = {}
        for module, files in _imports(package).items():
            imported.setdefault(module.split(".")[0].split(":")[0], set()).update(files)
        ours = {m for m in imported if m in MAY_IMPORT and m != package}
        wrong = {m: sorted(imported[m]) for m in ours - allowed}
        assert not wrong, f"{package} imports {wrong}; it may import {sorted(allowed) or 'none of ours'}"


def test_only_the_store_touches_the_database():
    for package in set(MAY_IMPORT) - {"store"}:
        allowed = {"sqlalchemy:Engine"} if package in MAY_HOLD_AN_ENGINE else set()
        allowed |= {"psycopg"} if package in MAY_START_POSTGRES else set()
        wrong = {
            module: sorted(files)
            for module, files in _imports(package).items()
            if module.split(".")[0].split(":")[0] in DATABASE and module not in allowed
        }
        assert not wrong, f"{package} uses the database directly: {wrong}"
