"""The bot's Prometheus metrics, served with `/healthz` on `VERITEXT_TELEGRAM_METRICS_PORT`: messages
answered, by outcome (scored, too short, rate-limited, unreadable file, gateway trouble)."""

from prometheus_client import CollectorRegistry, Counter

from stream.metrics import new_registry

__all__ = ["BotMetrics"]


class BotMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or new_registry()
        self.messages = Counter(
            "veritext_bot_messages",
            "messages the bot answered, by outcome: scored, too_short, limited, unreadable, trouble",
            ["outcome"],
            registry=self.registry,
        )
