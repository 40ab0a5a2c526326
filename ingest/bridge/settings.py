"""Bridge settings, from `VERITEXT_RABBITMQ_*` variables (read by the composition root only).

`VERITEXT_RABBITMQ_URL` unset means "no bridge": `veritext up` does not start one and
`veritext bridge` refuses to run with a message naming the variable.
"""

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from schemas.events import MAX_TEXT_CHARS
from schemas.keys import KEY_NAME
from stream.settings import WorkerSettings

__all__ = ["BridgeSettings"]


class BridgeSettings(WorkerSettings):
    model_config = SettingsConfigDict(env_prefix="VERITEXT_RABBITMQ_", frozen=True, extra="ignore")

    url: SecretStr | None = Field(default=None, description="amqp://user:password@host:5672/vhost")
    queue: str = Field(default="ml_tasks", min_length=1, description="the durable task queue the clients write to")
    # RabbitMQ clients carry no API key: whoever may write the queue is this tenant (docs/security.md).
    tenant: str = Field(default="rabbitmq", pattern=KEY_NAME, description="the tenant the bridge's texts count as")
    dead_letter_queue: str = Field(default="ml_tasks.dead-letter", min_length=1)
    results_exchange: str = Field(default="ml_results", min_length=1, description="topic exchange for every answer")
    # Tasks stay unacknowledged until answered, so this is also the number of tasks in flight.
    prefetch: int = Field(default=256, ge=1, le=65_535)
    max_text_chars: int = Field(default=MAX_TEXT_CHARS, ge=1, le=MAX_TEXT_CHARS)
    produce_timeout_s: float = Field(default=10.0, gt=0, description="one attempt to write a task to the log")
    reconnect_min_s: float = Field(default=0.5, gt=0, description="first wait before reconnecting to RabbitMQ")
    reconnect_max_s: float = Field(default=30.0, gt=0, description="longest wait between reconnection attempts")
