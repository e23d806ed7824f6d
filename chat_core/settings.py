"""Settings from explicit arguments, Streamlit secrets, the environment and ``.env``.

Precedence, highest first: explicit arguments > ``st.secrets`` > environment >
``.env``. Reading the last three, by name, is ``settings_sources.py``; here are
the parsed ``Settings``, their checks, and ``load_settings``, which puts both
together.

Owner and visitor: everything read here is the owner's. What a visitor types in
the sidebar is a ``VisitorInput``, kept apart in ``Settings.visitor``, so the
back-end factory can send the owner's key and token only to the owner's
endpoints (``docs/security.md``).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal, cast

from chat_core.errors import ConfigError
from chat_core.settings_sources import FIELD_NAMES, lookup, setting_layers

BackendName = Literal["offline", "openai", "remote"]
BACKEND_CHOICES = ("auto", "offline", "openai", "remote")
OPENAI_API_CHOICES = ("auto", "responses", "chat")
DEFAULT_OPENAI_MODEL = "gpt-4o-mini"
DEFAULT_OFFLINE_MODEL = "offline-scripted"
VisitorEndpoints = Literal["off", "public", "any"]
VISITOR_ENDPOINT_CHOICES: tuple[VisitorEndpoints, ...] = ("off", "public", "any")
SHARING_CHOICES = ("off", "on", "login")  # CHAT_SHARING


@dataclass(frozen=True)
class VisitorInput:
    """What a visitor typed in the sidebar: theirs alone, never mixed with the owner's secrets."""

    openai_api_key: str | None = field(default=None, repr=False)
    openai_base_url: str | None = None
    remote_url: str | None = None
    gateway_token: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        for name in ("openai_api_key", "openai_base_url", "remote_url", "gateway_token"):
            value = getattr(self, name)
            object.__setattr__(self, name, value.strip() if value and value.strip() else None)

    @property
    def endpoint(self) -> str | None:
        """The endpoint the visitor typed, if any."""
        return self.openai_base_url or self.remote_url


@dataclass(frozen=True)
class Settings:
    """Everything configurable, already parsed. Secrets are kept out of ``repr``."""

    backend: str = "auto"
    openai_api_key: str | None = None
    openai_base_url: str | None = None
    model: str | None = None
    remote_url: str | None = None
    remote_method: str = "POST"
    gateway_token: str | None = None
    offline_tps: float = 40.0
    db_path: str = ".chat_data/chats.sqlite3"
    db_url: str | None = None  # a SQLAlchemy URL; wins over db_path, which means a SQLite file
    shared_history: bool = False  # every visitor shares one chat list (a demo, on purpose)
    openai_api: str = "auto"  # auto: the Responses API for api.openai.com, else Chat Completions
    visitor_budget: VisitorBudget | None = None  # per person and hour, on the owner's key
    visitor_endpoints: str = ""  # "" = the default for where the app listens (see below)
    visitor: VisitorInput = VisitorInput()
    redis_url: str | None = None  # runs in Redis Streams: several gateway workers or instances
    require_login: bool = False  # anonymous visitors see only Log in (needs Streamlit's [auth])
    # How long a model server may stay silent (before its first byte, or mid-answer).
    first_byte_timeout_s: float = 30.0
    # The owner's prices for models the price table does not cover (local servers are free).
    prices: tuple[OwnerPrice, ...] = ()
    sharing: str = "on"  # share links: off, on, or login (only logged-in users make them)

    def __post_init__(self) -> None:
        if self.backend not in BACKEND_CHOICES:
            raise ConfigError(
                f"CHAT_BACKEND must be one of {', '.join(BACKEND_CHOICES)}, not {self.backend!r}"
            )
        tps = self.offline_tps
        if isinstance(tps, bool) or not isinstance(tps, int | float) or not 0 < tps <= 10_000:
            raise ConfigError("CHAT_OFFLINE_TPS must be a number between 0 and 10000")
        if self.remote_method.upper() not in ("GET", "POST"):
            raise ConfigError("CHAT_REMOTE_METHOD must be GET or POST")
        if self.openai_api not in OPENAI_API_CHOICES:
            raise ConfigError(
                f"CHAT_OPENAI_API must be one of {', '.join(OPENAI_API_CHOICES)}, "
                f"not {self.openai_api!r}"
            )
        if self.visitor_endpoints.strip().lower() not in ("", *VISITOR_ENDPOINT_CHOICES):
            raise ConfigError("CHAT_VISITOR_ENDPOINTS must be off, public or any")
        wait = self.first_byte_timeout_s
        if isinstance(wait, bool) or not isinstance(wait, int | float) or not 1 <= wait <= 600:
            raise ConfigError("CHAT_FIRST_BYTE_TIMEOUT_S must be a number of seconds from 1 to 600")
        if self.sharing not in SHARING_CHOICES:
            raise ConfigError(f"CHAT_SHARING must be one of {', '.join(SHARING_CHOICES)}")

    def __repr__(self) -> str:
        shown = {
            f.name: (
                "***"
                if f.name in ("openai_api_key", "gateway_token") and getattr(self, f.name)
                else getattr(self, f.name)
            )
            for f in fields(self)
        }
        if self.db_url:  # a database URL may carry a password: user:***@host
            shown["db_url"] = re.sub(r"(://[^/:@]*:)[^/@]*@", r"\1***@", self.db_url)
        return f"Settings({', '.join(f'{k}={v!r}' for k, v in shown.items())})"

    @property
    def database_url(self) -> str:
        """The chat database: ``CHAT_DB_URL``, else the SQLite file at ``CHAT_DB_PATH``."""
        if self.db_url:
            return self.db_url
        return "sqlite://" if self.db_path == ":memory:" else f"sqlite:///{self.db_path}"

    @property
    def resolved_backend(self) -> BackendName:
        """The back end to use: ``auto`` picks remote, then OpenAI, then offline."""
        if self.backend != "auto":
            return cast(BackendName, self.backend)
        v = self.visitor
        if self.remote_url or v.remote_url:
            return "remote"
        if self.openai_api_key or self.openai_base_url or v.openai_api_key or v.openai_base_url:
            return "openai"
        return "offline"

    @property
    def visitor_policy(self) -> VisitorEndpoints:
        """Where visitors may point the app; ``public`` unless set or resolved by the page."""
        return visitor_endpoints_policy(self.visitor_endpoints, None)

    @property
    def resolved_model(self) -> str:
        """The model name, or the back end's default."""
        if self.model:
            return self.model
        return DEFAULT_OFFLINE_MODEL if self.resolved_backend == "offline" else DEFAULT_OPENAI_MODEL

    def with_overrides(self, **overrides: Any) -> Settings:
        """A copy with the non-empty overrides applied (the sidebar's per-session values)."""
        clean = {k: v for k, v in overrides.items() if v not in (None, "")}
        return replace(self, **clean)


def is_loopback_address(address: str | None) -> bool:
    """True when listening on ``address`` reaches only this machine (127.0.0.1, ::1, localhost)."""
    bare = (address or "").strip().strip("[]").lower()
    if bare == "localhost":
        return True
    try:
        return ipaddress.ip_address(bare).is_loopback
    except ValueError:  # "" is Streamlit's default, every interface; or a host name
        return False


def default_visitor_endpoints(server_address: str | None) -> VisitorEndpoints:
    """``any`` when the app listens on loopback only (``make run``), else ``public``."""
    return "any" if is_loopback_address(server_address) else "public"


def visitor_endpoints_policy(setting: str | None, server_address: str | None) -> VisitorEndpoints:
    """``CHAT_VISITOR_ENDPOINTS`` when set, else the default for the listening address."""
    wanted = (setting or "").strip().lower()
    for choice in VISITOR_ENDPOINT_CHOICES:
        if wanted == choice:
            return choice
    return default_visitor_endpoints(server_address)


def _flag(raw: str) -> bool:
    value = raw.lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError(raw)


@dataclass(frozen=True)
class VisitorBudget:
    """``CHAT_VISITOR_BUDGET``: requests and tokens per person and clock hour; 0 = no limit."""

    requests_per_hour: int
    tokens_per_hour: int

    def __str__(self) -> str:
        return f"{self.requests_per_hour}/{self.tokens_per_hour}"


_BUDGET = re.compile(r"(\d{1,9})\s*/\s*(\d{1,12})")


def parse_visitor_budget(raw: str) -> VisitorBudget | None:
    """``REQUESTS/TOKENS`` per hour, e.g. ``30/50000``; ``off`` (or ``0/0``) means no budget."""
    text = raw.strip().lower()
    if text in ("", "off"):
        return None
    match = _BUDGET.fullmatch(text)
    if match is None:
        raise ValueError(raw)
    budget = VisitorBudget(int(match[1]), int(match[2]))
    return budget if budget.requests_per_hour or budget.tokens_per_hour else None


@dataclass(frozen=True)
class OwnerPrice:
    """One ``CHAT_PRICES`` entry: USD per million tokens in and out for a model."""

    model: str
    input_usd_per_mtok: float
    output_usd_per_mtok: float


_PRICE = re.compile(r"([^=\s;,]{1,200})\s*=\s*([0-9]*\.?[0-9]+)\s*/\s*([0-9]*\.?[0-9]+)")


def parse_prices(raw: str) -> tuple[OwnerPrice, ...]:
    """``MODEL=IN/OUT`` per million tokens, ``;``-separated: ``llama3.2=0/0;my-model=0.2/0.6``."""
    prices: list[OwnerPrice] = []
    for entry in raw.replace(",", ";").split(";"):
        if not entry.strip():
            continue
        match = _PRICE.fullmatch(entry.strip())
        if match is None or not all(float(match[i]) <= 10_000 for i in (2, 3)):
            raise ValueError(entry)
        prices.append(OwnerPrice(match[1], float(match[2]), float(match[3])))
    return tuple(prices)


_PARSERS: dict[str, Callable[[str], Any]] = {
    "offline_tps": float,
    "first_byte_timeout_s": float,
    "prices": parse_prices,
    "shared_history": _flag,
    "require_login": _flag,
    "visitor_budget": parse_visitor_budget,
    "sharing": lambda raw: SHARING_CHOICES[SHARING_CHOICES.index(raw.lower())],
}


def load_settings(
    *,
    env: Mapping[str, str] | None = None,
    dotenv_path: str | Path | None = ".env",
    secrets: Mapping[str, Any] | None = None,
    **explicit: Any,
) -> Settings:
    """Read settings; ``env``/``secrets`` default to ``os.environ``/``st.secrets``.

    Args:
        env: the environment to read (``os.environ`` when None).
        dotenv_path: the ``.env`` file, or None to skip it.
        secrets: Streamlit secrets (read from ``st.secrets`` when None and Streamlit is loaded).
        **explicit: field values that win over everything else.
    """
    unknown = set(explicit) - set(FIELD_NAMES)
    if unknown:
        raise TypeError(f"unknown setting {sorted(unknown)[0]!r}")
    layers = setting_layers(env=env, dotenv_path=dotenv_path, secrets=secrets)
    values: dict[str, Any] = {}
    for attr, name in FIELD_NAMES.items():
        if explicit.get(attr) not in (None, ""):
            values[attr] = explicit[attr]
            continue
        raw = lookup(name, layers)
        if raw is not None:
            try:
                values[attr] = _PARSERS.get(attr, str)(raw)
            except ValueError as exc:
                raise ConfigError(f"{name} is not valid: {raw!r}") from exc
    return Settings(**values)
