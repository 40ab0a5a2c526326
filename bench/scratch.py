"""Scratch services for a benchmark, gone afterwards: a database on the local PostgreSQL
(`VERITEXT_TEST_DATABASE_URL`'s server, as the tests use), or a whole embedded set (a temporary folder,
an embedded broker and an embedded PostgreSQL in that folder), each database migrated to head."""

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from store.db import migrate
from stream.embedded_broker import EmbeddedBroker
from veritext.embedded_postgres import EmbeddedPostgres

__all__ = ["embedded_services", "scratch_database"]

ADMIN_URL = os.environ.get("VERITEXT_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")


@contextmanager
def scratch_database(prefix: str) -> Iterator[str]:
    """The URL of a fresh, migrated database named `<prefix>_<random>`."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        migrate(url)
        yield url
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@contextmanager
def embedded_services(prefix: str = "vtbench") -> Iterator[tuple[Path, EmbeddedBroker, str]]:
    """A temporary folder, an embedded broker, and the URL of an embedded PostgreSQL kept in that folder."""
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp, EmbeddedBroker() as broker:
        postgres = EmbeddedPostgres(Path(tmp))
        database_url = postgres.start()
        try:
            migrate(database_url)
            yield Path(tmp), broker, database_url
        finally:
            postgres.stop()
