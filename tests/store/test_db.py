"""The engine every component uses (store/db.py) on real PostgreSQL: an error the database raises names
the statement, never the values in it (a user's text, a tenant), since errors reach logs and failure rows."""

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError


def test_a_database_error_carries_no_value_of_the_statement(engine):
    with pytest.raises(DBAPIError) as refused, engine.connect() as connection:
        connection.execute(text("SELECT CAST(:value AS text)"), {"value": "my private essay\x00"})  # NUL: refused
    assert "my private essay" not in str(refused.value)
    assert "parameters hidden" in str(refused.value)
