"""Alembic environment: the URL comes from the caller (`store.db.migrate`), metadata from store.models."""

from alembic import context
from sqlalchemy import create_engine

from store.models import Base

config = context.config
url = config.get_main_option("sqlalchemy.url")
assert url is not None, "store/db.py sets sqlalchemy.url before running a migration"
engine = create_engine(url)
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
