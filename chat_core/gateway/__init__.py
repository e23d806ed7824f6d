"""The SSE gateway: FastAPI, wire protocol v1, runs that survive dropped connections."""

from __future__ import annotations

from chat_core.gateway.app import create_app
from chat_core.gateway.config import GatewayConfig

__all__ = ["GatewayConfig", "create_app"]
