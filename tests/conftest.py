"""Real services for the tests: a Kafka-protocol broker and PostgreSQL, isolated by name.

- Kafka: `VERITEXT_TEST_KAFKA` if set, else an embedded Tansu broker for the session.
- PostgreSQL: `VERITEXT_TEST_DATABASE_URL` (default: the local server, database `test`); each
  test gets a fresh database, migrated to head, and dropped afterwards.
- Each test gets its own topic prefix and consumer groups.

A service that cannot be reached skips its tests with a message, except under CI=true, where
it fails them (tests/helpers.py `unavailable`; the labelled data too: `labelled_data`).
"""

import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import Engine

from store.db import make_engine, migrate
from store.settings import sqlalchemy_url
from stream.admin import broker_reachable, ensure_topics
from stream.embedded_broker import EmbeddedBroker
from stream.settings import KafkaSettings
from tests.helpers import unavailable

_DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    external = os.environ.get("VERITEXT_TEST_KAFKA")
    if external:
        if not broker_reachable(KafkaSettings(bootstrap=external), timeout_s=5):
            unavailable(f"Kafka at VERITEXT_TEST_KAFKA={external}")
        yield external
        return
    try:
        broker = EmbeddedBroker().start()
    except Exception as exc:
        unavailable(f"the embedded broker ({exc})")
    try:
        yield broker.bootstrap
    finally:
        broker.stop()


@pytest.fixture
def kafka(kafka_bootstrap: str) -> KafkaSettings:
    settings = KafkaSettings(bootstrap=kafka_bootstrap, topic_prefix=f"t{uuid.uuid4().hex[:12]}", partitions=4)
    ensure_topics(settings)
    return settings


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    url = os.environ.get("VERITEXT_TEST_DATABASE_URL", _DEFAULT_DATABASE_URL)
    try:
        psycopg.connect(url, connect_timeout=5).close()
    except psycopg.OperationalError as exc:
        unavailable(f"PostgreSQL at {url} ({exc})")
    return url


@pytest.fixture
def database_url(postgres_admin_url: str) -> Iterator[str]:
    name = f"vt_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = postgres_admin_url.rpartition("/")
    url = sqlalchemy_url(f"{base}/{name}")
    migrate(url)
    yield url
    with psycopg.connect(postgres_admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def real_detector():
    """The real packaged probe detector, loaded once per session (converted on the first run)."""
    from scorer.detectors import load_detector
    from scorer.settings import ScorerSettings

    settings = ScorerSettings()
    try:
        detector = load_detector("probe", cache_dir=settings.model_dir, options=settings.detector_options())
    except Exception as exc:
        unavailable(f"the packaged model ({exc})")
    detector.warmup()
    return detector


@pytest.fixture(scope="session")
def real_model():
    """The packaged gemma-3-270m whole (the probe's model is cut after its deepest layer), loaded once."""
    from scorer.detectors.causal_lm import load_causal_lm
    from scorer.settings import ScorerSettings

    try:
        return load_causal_lm("packaged", cache_dir=ScorerSettings().model_dir)
    except Exception as exc:
        unavailable(f"the packaged model ({exc})")
