"""The log's schema as the migrations build it (store/migrations) is the one store/models.py describes,
and the indexes still serve the lookups made through them (migration 0014 made two of them partial)."""

import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, select, text

from store.models import Base, Submission


def test_the_migrations_build_the_tables_the_models_describe(engine) -> None:
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []


@pytest.mark.parametrize(
    ("lookup", "index"),
    [
        (select(Submission.content_hash).where(Submission.content_hash.in_(["a" * 64, "b" * 64])), "content_hash"),
        (select(func.count()).where(Submission.batch_id == uuid.uuid4()), "batch_id"),
        (select(Submission.id).where(Submission.tenant == "acme").order_by(Submission.submitted_at), "tenant"),
    ],
    ids=["duplicate check", "batch", "tenant"],
)
def test_each_lookup_can_use_its_index(engine, lookup, index) -> None:
    """A partial index serves only the queries whose condition implies its own (`tenant = 'acme'` implies
    `tenant IS NOT NULL`); with sequential scans priced out the plan shows whether it does."""
    statement = str(lookup.compile(engine, compile_kwargs={"literal_binds": True}))
    with engine.connect() as connection:
        connection.execute(text("SET enable_seqscan = off"))
        plan = "\n".join(connection.scalars(text(f"EXPLAIN {statement}")))
    assert f"ix_submissions_{index}" in plan, plan
