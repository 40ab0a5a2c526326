"""The RabbitMQ bridge: keeps the original clients of the `ml_tasks` queue working on the log."""

from ingest.bridge.service import Bridge
from ingest.bridge.settings import BridgeSettings

__all__ = ["Bridge", "BridgeSettings"]
