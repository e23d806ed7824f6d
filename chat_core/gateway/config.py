"""Gateway-only settings: the token, CORS origins, the stream cap and the resume TTL.

Read with the same precedence as the shared ``Settings`` (``settings.setting_layers``):
``CHAT_GATEWAY_TOKEN`` (in Settings), ``CHAT_CORS_ORIGINS`` (comma-separated),
``CHAT_GATEWAY_MAX_STREAMS``, ``CHAT_GATEWAY_TTL_S``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chat_core.errors import ConfigError
from chat_core.settings import Settings, lookup, setting_layers
from chat_core.wire import PING_INTERVAL_S, RETRY_MS

MAX_BODY_BYTES = 2 * 1024 * 1024  # 400k characters of history, JSON-escaped, fit


@dataclass(frozen=True)
class GatewayConfig:
    """How the gateway serves: auth, CORS, limits and timings."""

    token: str | None = None
    cors_origins: tuple[str, ...] = ()
    max_streams: int = 1000
    ttl_s: float = 600.0
    ping_interval_s: float = PING_INTERVAL_S
    retry_ms: int = RETRY_MS
    max_body_bytes: int = MAX_BODY_BYTES

    def __post_init__(self) -> None:
        if self.max_streams < 1:
            raise ConfigError("CHAT_GATEWAY_MAX_STREAMS must be at least 1")
        if self.ttl_s <= 0:
            raise ConfigError("CHAT_GATEWAY_TTL_S must be positive")
        if self.ping_interval_s <= 0 or self.retry_ms < 0:
            raise ConfigError("the ping interval must be positive and retry not negative")

    def __repr__(self) -> str:
        token = "***" if self.token else None
        return (
            f"GatewayConfig(token={token!r}, cors_origins={self.cors_origins!r}, "
            f"max_streams={self.max_streams}, ttl_s={self.ttl_s})"
        )

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        env: Mapping[str, str] | None = None,
        dotenv_path: str | Path | None = ".env",
        secrets: Mapping[str, Any] | None = None,
    ) -> GatewayConfig:
        """The config for ``settings`` plus the gateway's own environment names."""
        layers = setting_layers(env=env, dotenv_path=dotenv_path, secrets=secrets)

        def read(name: str) -> str | None:
            return lookup(name, layers)

        origins = tuple(
            o.strip() for o in (read("CHAT_CORS_ORIGINS") or "").split(",") if o.strip()
        )
        try:
            max_streams = int(read("CHAT_GATEWAY_MAX_STREAMS") or cls.max_streams)
            ttl_s = float(read("CHAT_GATEWAY_TTL_S") or cls.ttl_s)
        except ValueError as exc:
            raise ConfigError(
                "CHAT_GATEWAY_MAX_STREAMS must be an integer, CHAT_GATEWAY_TTL_S a number"
            ) from exc
        return cls(
            token=settings.gateway_token or None,
            cors_origins=origins,
            max_streams=max_streams,
            ttl_s=ttl_s,
        )
