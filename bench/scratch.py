"""A scratch database for a benchmark: created on the local PostgreSQL (`VERITEXT_TEST_DATABASE_URL`'s
server, as the tests use), migrated to head, dropped afterwards."""

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from store.db import migrate

__all__ = ["scratch_database"]

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
