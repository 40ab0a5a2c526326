"""Database access for the writers and the readers: the engine, migrations, and the schema check.

The sink refuses to start on a schema behind the head revision and names the command that fixes it.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from pydantic import SecretStr
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session

from schemas.errors import SchemaBehindError, ServiceUnavailable
from schemas.secrets import plain
from store.settings import DatabaseSettings, sqlalchemy_url

# a database that is away, restarting or out of connections: a 503 to retry, never a 500
UNAVAILABLE = (OperationalError, InterfaceError, PoolTimeout)

__all__ = [
    "UNAVAILABLE",
    "check_schema",
    "make_engine",
    "migrate",
    "open_log",
    "ping",
    "reading",
]

_MIGRATIONS = Path(__file__).parent / "migrations"


def _alembic_config(url: SecretStr | str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.set_main_option("sqlalchemy.url", sqlalchemy_url(plain(url)).replace("%", "%%"))
    return config


def make_engine(url: SecretStr | str, pool_size: int = 5) -> Engine:
    # hide_parameters: an error (and any statement log) names the statement, never the values (texts, tenants)
    return create_engine(sqlalchemy_url(plain(url)), pool_size=pool_size, pool_pre_ping=True, hide_parameters=True)


@contextmanager
def reading(engine: Engine) -> Iterator[Session]:
    """A session for reads; a database that does not answer raises `ServiceUnavailable` (a 503 at the
    gateway), never a driver error."""
    try:
        with Session(engine) as session:
            yield session
    except UNAVAILABLE as exc:
        where = engine.url.render_as_string(hide_password=True)
        raise ServiceUnavailable(f"PostgreSQL at {where} failed: {getattr(exc, 'orig', None) or exc}") from exc


def ping(engine: Engine) -> None:
    """Raise `ServiceUnavailable` with a hint when the database does not answer."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except UNAVAILABLE as exc:
        where = engine.url.render_as_string(hide_password=True)
        raise ServiceUnavailable(f"PostgreSQL at {where} refused the connection; is it running?") from exc


def migrate(url: SecretStr | str) -> None:
    """Bring the schema to the head revision (idempotent)."""
    ping(make_engine(url, pool_size=1))
    command.upgrade(_alembic_config(url), "head")


def open_log(pool_size: int = 5) -> Engine:
    """The log database the settings name (`VERITEXT_DATABASE_URL`), checked to answer and to be at the
    schema this code needs; `ServiceUnavailable` or `SchemaBehindError` with a hint otherwise."""
    engine = make_engine(DatabaseSettings().url, pool_size=pool_size)
    try:
        check_schema(engine)
    except BaseException:
        engine.dispose()
        raise
    return engine


def check_schema(engine: Engine) -> None:
    ping(engine)
    scripts = ScriptDirectory.from_config(_alembic_config(engine.url.render_as_string(hide_password=False)))
    head = scripts.get_current_head()
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    if current != head:
        raise SchemaBehindError(
            f"database schema is at {current or 'nothing'}, code needs {head}: run `veritext migrate`"
        )
