"""The HTTP gateway: FastAPI app that writes submission events and reads results."""

from ingest.gateway.app import create_app
from ingest.gateway.settings import GatewaySettings

__all__ = ["GatewaySettings", "create_app"]
