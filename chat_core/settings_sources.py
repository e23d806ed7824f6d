"""Where settings come from: Streamlit secrets, the environment and ``.env``, by name.

Precedence, highest first: ``st.secrets`` > environment > ``.env`` (explicit
arguments win over all three, in ``settings.load_settings``). Streamlit is only
consulted when it is already imported (the app), so the gateway and the tests
never pay for importing it; this is the one module of ``chat_core`` that reads
``st.secrets``. ``lookup`` hands each value out as a stripped string;
``settings.py`` parses and checks it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dotenv import dotenv_values

# Settings field -> its name in secrets, the environment and .env.
FIELD_NAMES: dict[str, str] = {
    "backend": "CHAT_BACKEND",
    "openai_api_key": "OPENAI_API_KEY",
    "openai_base_url": "OPENAI_BASE_URL",
    "model": "CHAT_MODEL",
    "remote_url": "CHAT_REMOTE_URL",
    "remote_method": "CHAT_REMOTE_METHOD",
    "gateway_token": "CHAT_GATEWAY_TOKEN",
    "offline_tps": "CHAT_OFFLINE_TPS",
    "db_path": "CHAT_DB_PATH",
    "db_url": "CHAT_DB_URL",
    "shared_history": "CHAT_SHARED_HISTORY",
    "openai_api": "CHAT_OPENAI_API",
    "visitor_budget": "CHAT_VISITOR_BUDGET",
    "visitor_endpoints": "CHAT_VISITOR_ENDPOINTS",
    "redis_url": "CHAT_REDIS_URL",
    "require_login": "CHAT_REQUIRE_LOGIN",
    "first_byte_timeout_s": "CHAT_FIRST_BYTE_TIMEOUT_S",
    "prices": "CHAT_PRICES",
    "sharing": "CHAT_SHARING",
}
# Read by the gateway only (``GatewayConfig``), through the same precedence.
GATEWAY_SETTING_NAMES: tuple[str, ...] = (
    "CHAT_CORS_ORIGINS",
    "CHAT_GATEWAY_MAX_STREAMS",
    "CHAT_GATEWAY_TTL_S",
    "CHAT_GATEWAY_CLIENT_STREAMS",
    "CHAT_GATEWAY_CLIENT_STARTS",
    "CHAT_GATEWAY_REQUEST_TIMEOUT_S",
    "CHAT_GATEWAY_MODELS",
    "CHAT_GATEWAY_MAX_TOKENS",
    "CHAT_GATEWAY_ORPHAN_S",
)
# Every name this project reads: tests and benchmarks scrub the environment with it.
SETTING_NAMES: tuple[str, ...] = (*FIELD_NAMES.values(), *GATEWAY_SETTING_NAMES)


def _streamlit_secrets() -> Mapping[str, Any]:
    if "streamlit" not in sys.modules:
        return {}
    try:
        import streamlit as st

        return {k: st.secrets[k] for k in SETTING_NAMES if k in st.secrets}
    except Exception:  # no secrets.toml, or not running under Streamlit
        return {}


def setting_layers(
    *,
    env: Mapping[str, str] | None = None,
    dotenv_path: str | Path | None = ".env",
    secrets: Mapping[str, Any] | None = None,
) -> list[Mapping[str, Any]]:
    """Where settings come from, highest first: ``st.secrets``, the environment, ``.env``."""
    dot: Mapping[str, str | None] = {}
    if dotenv_path is not None and Path(dotenv_path).is_file():
        dot = dotenv_values(dotenv_path)
    return [
        secrets if secrets is not None else _streamlit_secrets(),
        os.environ if env is None else env,
        dot,
    ]


def lookup(name: str, layers: list[Mapping[str, Any]]) -> str | None:
    """The first non-empty value of ``name`` in ``layers``, stripped."""
    for layer in layers:
        raw = layer.get(name)
        if raw not in (None, ""):
            return str(raw).strip()
    return None
