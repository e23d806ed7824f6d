"""Back ends: one module each, one ``Backend`` protocol, one factory.

base             the ``Backend`` protocol every back end implements
directives       the offline model's instruments (``/lorem``, ``/error``, ``/think``, ...)
offline          a scripted, deterministic model: no key, no network
openai           the official SDK against OpenAI or any OpenAI-compatible server, over
  openai_chat      Chat Completions chunks -> events, for every provider's shape of them
  openai_responses Responses API events -> events
  openai_params    request parameters, adapted to what each (endpoint, model) accepts
  openai_errors    SDK exceptions -> StreamError, messages cut at a word boundary
  think_tags       ``<think>...</think>`` at the start of content -> reasoning
models           the Model select's options and the model to use (the server's, when it lists)
endpoints        base URLs as typed: checked, and named in messages (``host:port``)
openai_retry     which failures are tried again, after how long
remote           any server speaking wire protocol v1 (or a seed-style one), with resume
remote_session   the remote back end's decisions, without I/O
address_guard    which addresses a visitor's endpoint may reach (pure)
visitor_http     httpx clients for visitors' endpoints: nothing from the environment

The factory is where owner and visitor part: the owner's key and gateway token
(``Settings``) go only to the owner's endpoints (the configured base URL or
remote URL, or OpenAI's own); an endpoint the visitor typed (``Settings.visitor``)
gets only what the visitor typed, through a client that takes nothing from the
environment and obeys ``CHAT_VISITOR_ENDPOINTS``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

import httpx

from chat_core.backends.base import Backend
from chat_core.backends.endpoints import CONNECT_TIMEOUT_S, url_problem
from chat_core.backends.offline import OfflineBackend
from chat_core.errors import ConfigError
from chat_core.settings import DEFAULT_OPENAI_MODEL, Settings

if TYPE_CHECKING:
    from chat_core.backends.openai import OpenAIBackend
    from chat_core.backends.remote import RemoteBackend, WireRecord


def make_backend(
    settings: Settings,
    *,
    max_retries: int | None = None,
    on_wire: Callable[[WireRecord], None] | None = None,
) -> Backend:
    """The back end the settings ask for (``auto`` resolved).

    Args:
        settings: what to build: the owner's settings and ``settings.visitor``'s input.
        max_retries: the OpenAI SDK's retries (its default when None; 0 for a probe).
        on_wire: the remote back end's wire records, for diagnostics.
    """
    name = settings.resolved_backend
    if name == "offline":
        return OfflineBackend(tokens_per_second=settings.offline_tps)
    if name == "openai":
        return openai_backend(settings, max_retries=max_retries)
    return remote_backend(settings, on_wire=on_wire)


def openai_backend(settings: Settings, *, max_retries: int | None = None) -> OpenAIBackend:
    """The OpenAI back end: the visitor's base URL with the visitor's key, or the owner's."""
    import openai

    from chat_core.backends.openai import PLACEHOLDER_KEY, OpenAIBackend
    from chat_core.backends.visitor_http import check_endpoint

    retries = openai.DEFAULT_MAX_RETRIES if max_retries is None else max_retries
    visitor = settings.visitor
    model = settings.model or DEFAULT_OPENAI_MODEL
    timeout = httpx.Timeout(settings.first_byte_timeout_s, connect=CONNECT_TIMEOUT_S)
    if visitor.openai_base_url:
        check_url(visitor.openai_base_url, "OPENAI_BASE_URL")
        check_endpoint(visitor.openai_base_url, settings.visitor_policy)
        return OpenAIBackend(
            api_key=visitor.openai_api_key or PLACEHOLDER_KEY,
            base_url=visitor.openai_base_url,
            model=model,
            api=settings.openai_api,
            timeout=timeout,
            max_retries=retries,
            visitor=settings.visitor_policy,
        )
    if settings.openai_base_url:
        check_url(settings.openai_base_url, "OPENAI_BASE_URL")
    # The owner's endpoint: a key the visitor typed goes there in place of the owner's.
    return OpenAIBackend(
        api_key=visitor.openai_api_key or settings.openai_api_key,
        base_url=settings.openai_base_url,
        model=model,
        api=settings.openai_api,
        timeout=timeout,
        max_retries=retries,
        label=owner_server_label(settings, settings.openai_base_url),
    )


OWN_SERVER = "the app's model server"


def owner_server_label(settings: Settings, url: str | None) -> str | None:
    """What messages call the owner's server: None (its host:port) where the owner is the
    visitor (the app listens on loopback), else a label: a deployed app does not tell its
    visitors where its model server is (docs/security.md). OpenAI's own is no secret."""
    if not url or settings.visitor_policy == "any":
        return None
    return OWN_SERVER


def check_url(url: str, setting: str) -> None:
    """ConfigError naming ``setting`` when ``url`` cannot be an endpoint (never echoing it)."""
    problem = url_problem(url, setting)
    if problem is not None:
        raise ConfigError(problem)


def remote_backend(
    settings: Settings, *, on_wire: Callable[[WireRecord], None] | None = None
) -> RemoteBackend:
    """The remote back end: the visitor's URL with the visitor's token, or the owner's."""
    from chat_core.backends.remote import RemoteBackend
    from chat_core.backends.visitor_http import check_endpoint

    visitor = settings.visitor
    # The gateway pings every 15 s: a shorter read timeout would cut a healthy quiet stream.
    read_s = max(settings.first_byte_timeout_s, 20.0)
    timeout = httpx.Timeout(read_s, connect=CONNECT_TIMEOUT_S)
    if visitor.remote_url:
        check_url(visitor.remote_url, "CHAT_REMOTE_URL")
        check_endpoint(visitor.remote_url, settings.visitor_policy)
        return RemoteBackend(
            visitor.remote_url,
            method=settings.remote_method,
            token=visitor.gateway_token,
            model=settings.model,
            visitor=settings.visitor_policy,
            on_wire=on_wire,
            timeout=timeout,
        )
    if visitor.gateway_token:  # the owner's URL with the visitor's own token
        settings = replace(settings, gateway_token=visitor.gateway_token)
    if settings.remote_url:
        check_url(settings.remote_url, "CHAT_REMOTE_URL")
    return RemoteBackend.from_settings(
        settings,
        on_wire=on_wire,
        timeout=timeout,
        label=owner_server_label(settings, settings.remote_url),
    )


def spends_owner_credentials(settings: Settings) -> bool:
    """True when answers would be paid with the owner's key or token (for budgets)."""
    name, visitor = settings.resolved_backend, settings.visitor
    if name == "openai":
        return not visitor.openai_base_url and not visitor.openai_api_key
    if name == "remote":
        return not visitor.remote_url and not visitor.gateway_token
    return False


__all__ = [
    "OWN_SERVER",
    "Backend",
    "OfflineBackend",
    "check_url",
    "make_backend",
    "openai_backend",
    "owner_server_label",
    "remote_backend",
    "spends_owner_credentials",
]
