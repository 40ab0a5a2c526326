"""Kafka settings, read from `VERITEXT_KAFKA_*` variables by the composition root only.

`client_config()` is what every client (producer, consumer, admin, lag reader, replay planner) connects
with: the bootstrap servers and, for a real cluster, the security settings passed through to librdkafka
(`security.protocol`, `sasl.mechanism`, `sasl.username`, `sasl.password`, `ssl.ca.location`).
"""

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from schemas.topics import Topics

__all__ = ["KafkaSettings", "WorkerSettings"]


class WorkerSettings(BaseSettings):
    """What every worker's settings share: where it serves /metrics and /healthz. A worker's settings
    class derives from it with its own `env_prefix` (`VERITEXT_SINK_METRICS_PORT`, ...)."""

    metrics_host: str = "127.0.0.1"
    metrics_port: int = Field(default=0, ge=0, le=65535, description="/metrics and /healthz; 0 serves none")


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
    # A real cluster's security; unset: plaintext, as the embedded broker speaks.
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_ca_location: Path | None = None

    def client_config(self) -> dict[str, Any]:
        """The connection part of every client's librdkafka configuration."""
        config: dict[str, Any] = {"bootstrap.servers": self.bootstrap, "security.protocol": self.security_protocol}
        if self.sasl_mechanism is not None:
            config["sasl.mechanism"] = self.sasl_mechanism
        if self.sasl_username is not None:
            config["sasl.username"] = self.sasl_username
        if self.sasl_password is not None:
            config["sasl.password"] = self.sasl_password.get_secret_value()
        if self.ssl_ca_location is not None:
            config["ssl.ca.location"] = str(self.ssl_ca_location)
        return config

    @property
    def topics(self) -> Topics:
        return Topics(prefix=self.topic_prefix)
