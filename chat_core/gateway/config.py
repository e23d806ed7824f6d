"""Gateway-only settings: the token, CORS origins, limits, timings and what clients may ask.

Read with the same precedence as the shared ``Settings`` (``settings_sources.setting_layers``):
``CHAT_GATEWAY_TOKEN`` (in Settings), ``CHAT_CORS_ORIGINS`` (comma-separated),
``CHAT_GATEWAY_MAX_STREAMS``, ``CHAT_GATEWAY_TTL_S``; per client (its token, else its
address) ``CHAT_GATEWAY_CLIENT_STREAMS`` and ``CHAT_GATEWAY_CLIENT_STARTS`` (per minute;
0 turns a limit off); ``CHAT_GATEWAY_REQUEST_TIMEOUT_S`` (to receive a request's headers
and body); ``CHAT_GATEWAY_MODELS`` (comma-separated allow-list) and
``CHAT_GATEWAY_MAX_TOKENS`` (a cap on ``max_tokens``); ``CHAT_GATEWAY_ORPHAN_S`` (how long a
run goes on with no client attached; 0: until it finishes). See docs/security.md.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from chat_core.attachments import DEFAULT_LIMITS, AttachmentLimits, parse_limits
from chat_core.errors import ConfigError
from chat_core.settings import Settings
from chat_core.settings_sources import lookup, setting_layers
from chat_core.wire import PING_INTERVAL_S, RETRY_MS

N = TypeVar("N", int, float)
# 400k characters of history, JSON-escaped, plus a message's attachments in base64 (4/3 of
# the default 10 MB per message): a file over its cap is refused by name, not as "body".
MAX_BODY_BYTES = 2 * 1024 * 1024 + DEFAULT_LIMITS.message_bytes * 4 // 3 + 4096


def body_limit(limits: AttachmentLimits) -> int:
    """The body cap that fits a message's files under ``limits`` (CHAT_ATTACHMENTS)."""
    return MAX_BODY_BYTES - DEFAULT_LIMITS.message_bytes * 4 // 3 + limits.message_bytes * 4 // 3


# No single person hits these by hand; a script hammering one token or address does.
CLIENT_STREAMS = 20
CLIENT_STARTS_PER_MINUTE = 60
REQUEST_TIMEOUT_S = 10.0
TICKET_TTL_S = 60.0
# Long enough for a client to resume after a dropped connection (EventSource retries
# within seconds), short enough that an abandoned answer stops costing tokens.
ORPHAN_S = 60.0


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
    client_streams: int = CLIENT_STREAMS  # 0: no per-client limit
    client_starts: int = CLIENT_STARTS_PER_MINUTE  # 0: no per-client limit
    request_timeout_s: float = REQUEST_TIMEOUT_S
    models: tuple[str, ...] = ()  # empty: any model the back end takes
    max_tokens: int | None = None  # None: no cap
    ticket_ttl_s: float = TICKET_TTL_S
    orphan_s: float = ORPHAN_S  # 0: a run with no client goes on until it finishes
    attachments: AttachmentLimits = DEFAULT_LIMITS  # CHAT_ATTACHMENTS, as in the app

    def __post_init__(self) -> None:
        if self.max_streams < 1:
            raise ConfigError("CHAT_GATEWAY_MAX_STREAMS must be at least 1")
        if self.ttl_s <= 0:
            raise ConfigError("CHAT_GATEWAY_TTL_S must be positive")
        if self.ping_interval_s <= 0 or self.retry_ms < 0:
            raise ConfigError("the ping interval must be positive and retry not negative")
        if self.client_streams < 0 or self.client_starts < 0:
            raise ConfigError("CHAT_GATEWAY_CLIENT_STREAMS and _STARTS must be 0 or more")
        if self.request_timeout_s <= 0:
            raise ConfigError("CHAT_GATEWAY_REQUEST_TIMEOUT_S must be positive")
        if self.max_tokens is not None and self.max_tokens < 1:
            raise ConfigError("CHAT_GATEWAY_MAX_TOKENS must be at least 1")
        if self.orphan_s < 0:
            raise ConfigError("CHAT_GATEWAY_ORPHAN_S must be 0 or more")
        if self.ticket_ttl_s <= 0:
            raise ConfigError("the ticket lifetime must be positive")

    def __repr__(self) -> str:
        token = "***" if self.token else None
        return (
            f"GatewayConfig(token={token!r}, cors_origins={self.cors_origins!r}, "
            f"max_streams={self.max_streams}, ttl_s={self.ttl_s}, "
            f"client_streams={self.client_streams}, client_starts={self.client_starts}, "
            f"request_timeout_s={self.request_timeout_s}, models={self.models!r}, "
            f"max_tokens={self.max_tokens}, orphan_s={self.orphan_s})"
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
        models = tuple(
            m.strip() for m in (read("CHAT_GATEWAY_MODELS") or "").split(",") if m.strip()
        )
        cap = _number(read, "CHAT_GATEWAY_MAX_TOKENS", int, 0)
        return cls(
            token=settings.gateway_token or None,
            cors_origins=origins,
            max_streams=max_streams,
            ttl_s=ttl_s,
            client_streams=_number(read, "CHAT_GATEWAY_CLIENT_STREAMS", int, CLIENT_STREAMS),
            client_starts=_number(
                read, "CHAT_GATEWAY_CLIENT_STARTS", int, CLIENT_STARTS_PER_MINUTE
            ),
            request_timeout_s=_number(
                read, "CHAT_GATEWAY_REQUEST_TIMEOUT_S", float, REQUEST_TIMEOUT_S
            ),
            models=models,
            max_tokens=cap or None,
            orphan_s=_number(read, "CHAT_GATEWAY_ORPHAN_S", float, ORPHAN_S),
            attachments=(limits := parse_limits(settings.attachments)),
            max_body_bytes=body_limit(limits),
        )


def _number(read: Callable[[str], str | None], name: str, kind: type[N], default: N) -> N:
    raw = read(name)
    if raw is None:
        return default
    try:
        return kind(raw)
    except ValueError as exc:
        noun = "an integer" if kind is int else "a number"
        raise ConfigError(f"{name} must be {noun}, not {raw[:40]!r}") from exc
