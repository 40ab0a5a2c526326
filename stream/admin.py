"""Topic administration: create the flow's topics if missing, and check the broker answers."""

import logging
from typing import Any

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, NewTopic

from schemas.errors import ServiceUnavailable
from stream.settings import KafkaSettings

__all__ = ["broker_reachable", "ensure_topics"]

log = logging.getLogger(__name__)


def _admin(settings: KafkaSettings) -> AdminClient:
    config: dict[str, Any] = {**settings.client_config(), "logger": log}
    return AdminClient(config)


def broker_reachable(settings: KafkaSettings, timeout_s: float = 2.0) -> bool:
    try:
        _admin(settings).list_topics(timeout=timeout_s)
    except KafkaException:
        return False
    return True


def ensure_topics(settings: KafkaSettings, timeout_s: float = 15.0) -> None:
    """Create the submissions, scores and dead-letter topics that do not exist yet."""
    admin = _admin(settings)
    try:
        existing = set(admin.list_topics(timeout=timeout_s).topics)
    except KafkaException as exc:
        raise ServiceUnavailable(f"Kafka at {settings.bootstrap} did not answer; is the broker running?") from exc
    missing = [t for t in settings.topics.all() if t not in existing]
    if not missing:
        return
    # an acks=all write must reach a majority when there are replicas: 2 of 3 survive one broker's loss
    config = (
        {"min.insync.replicas": str(min(2, settings.replication_factor - 1))} if settings.replication_factor > 1 else {}
    )
    futures = admin.create_topics(
        [
            NewTopic(
                t,
                num_partitions=settings.partitions,
                replication_factor=settings.replication_factor,
                config=config,
            )
            for t in missing
        ],
        operation_timeout=timeout_s,
    )
    for topic, future in futures.items():
        try:
            future.result(timeout_s)
            log.info("created topic %s with %d partitions", topic, settings.partitions)
        except KafkaException as exc:
            if "TOPIC_ALREADY_EXISTS" not in str(exc):
                raise ServiceUnavailable(f"could not create topic {topic}: {exc}") from exc
