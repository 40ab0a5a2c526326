"""Kafka settings, read from `VERITEXT_KAFKA_*` variables by the composition root only."""

from pydantic_settings import BaseSettings, SettingsConfigDict

from schemas.topics import Topics

__all__ = ["KafkaSettings"]


class KafkaSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VERITEXT_KAFKA_", frozen=True, extra="ignore")

    bootstrap: str = "127.0.0.1:9092"
    topic_prefix: str = "veritext"
    partitions: int = 6  # the ceiling on how many scorers share the work
    replication_factor: int = 1  # of newly created topics; 3 on a production cluster
    # Short group timeouts: the embedded broker (Tansu) then assigns partitions within seconds.
    session_timeout_ms: int = 6_000
    heartbeat_interval_ms: int = 1_000
    max_poll_interval_ms: int = 10_000
    # The broker forgets its topics when it stops (the embedded Tansu; `up` sets it): intakes then record
    # each submission in the log database before acknowledging it (ingest/recorder.py).
    volatile: bool = False

    @property
    def topics(self) -> Topics:
        return Topics(prefix=self.topic_prefix)
