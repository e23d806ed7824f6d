"""HTTP clients for endpoints a visitor typed: nothing from the environment, no redirects.

``trust_env=False`` keeps proxy variables, ``.netrc`` credentials and
``SSL_CERT_FILE`` out; ``follow_redirects=False`` keeps a public endpoint from
bouncing the request elsewhere. Under ``CHAT_VISITOR_ENDPOINTS=public`` the
connection pool uses a guarded httpcore network backend: it resolves the host,
checks every address with ``address_guard`` and connects to the address it
checked, so the check happens after DNS, at connect time. httpx offers no
public hook for the network backend, so ``_guarded_pool`` builds the pool
``httpx.HTTPTransport`` would, plus that backend.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import Callable, Iterable, Mapping
from typing import Any, cast

import anyio
import httpcore
import httpx
import openai

from chat_core.backends.address_guard import IPAddress, check_addresses
from chat_core.backends.address_guard import parse_address as _parse
from chat_core.errors import EndpointRefusedError
from chat_core.settings import VisitorEndpoints

Resolver = Callable[[str, int], list[str]]
SocketOptions = Iterable[Any] | None


def system_resolve(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for ``host``."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def checked_addresses(host: str, resolved: list[str]) -> list[str]:
    """``resolved`` when every address is public; raises ``EndpointRefusedError`` otherwise."""
    addresses: list[IPAddress] = [ip for a in resolved if (ip := _parse(a)) is not None]
    message = check_addresses(host, addresses)
    if message is not None:
        raise EndpointRefusedError(message)
    if not addresses:
        raise EndpointRefusedError(f"{host} did not resolve to any address.")
    return [str(ip) for ip in addresses]


class GuardedBackend(httpcore.SyncBackend):
    """Connects only to public addresses, the ones it resolved and checked itself."""

    def __init__(self, resolve: Resolver = system_resolve) -> None:
        self._resolve = resolve

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: SocketOptions = None,
    ) -> httpcore.NetworkStream:
        try:
            resolved = self._resolve(host, port)
        except OSError as exc:
            raise httpcore.ConnectError(f"{host} did not resolve") from exc
        error: Exception | None = None
        for address in checked_addresses(host, resolved):
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:
                error = exc
        raise error or httpcore.ConnectError(f"{host}: no address to connect to")


class AsyncGuardedBackend(httpcore.AnyIOBackend):
    """The async twin of ``GuardedBackend``."""

    def __init__(self, resolve: Resolver = system_resolve) -> None:
        self._resolve = resolve

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: SocketOptions = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            resolved = await anyio.to_thread.run_sync(self._resolve, host, port)
        except OSError as exc:
            raise httpcore.ConnectError(f"{host} did not resolve") from exc
        error: Exception | None = None
        for address in checked_addresses(host, resolved):
            try:
                return await super().connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except httpcore.ConnectError as exc:
                error = exc
        raise error or httpcore.ConnectError(f"{host}: no address to connect to")


def _pool_options(limits: httpx.Limits) -> dict[str, Any]:
    return {
        "ssl_context": httpx.create_ssl_context(trust_env=False),
        "max_connections": limits.max_connections,
        "max_keepalive_connections": limits.max_keepalive_connections,
        "keepalive_expiry": limits.keepalive_expiry,
    }


def visitor_transport(
    policy: VisitorEndpoints, *, limits: httpx.Limits | None = None, resolve: Resolver | None = None
) -> httpx.HTTPTransport:
    """A sync transport for a visitor's endpoint: guarded under ``public``."""
    limits = limits or httpx.Limits()
    transport = httpx.HTTPTransport(trust_env=False, limits=limits)
    if policy == "public":
        backend = GuardedBackend(resolve or system_resolve)
        transport._pool = httpcore.ConnectionPool(network_backend=backend, **_pool_options(limits))
    return transport


def avisitor_transport(
    policy: VisitorEndpoints, *, limits: httpx.Limits | None = None, resolve: Resolver | None = None
) -> httpx.AsyncHTTPTransport:
    """The async twin of ``visitor_transport``."""
    limits = limits or httpx.Limits()
    transport = httpx.AsyncHTTPTransport(trust_env=False, limits=limits)
    if policy == "public":
        backend = AsyncGuardedBackend(resolve or system_resolve)
        transport._pool = httpcore.AsyncConnectionPool(
            network_backend=backend, **_pool_options(limits)
        )
    return transport


class _ClosingClient(httpx.Client):
    # Like openai-python's SyncHttpxClientWrapper: a client the SDK holds for the life of a
    # back end is closed when the back end goes, so no socket is left to the collector.
    def __del__(self) -> None:
        if not self.is_closed:
            with contextlib.suppress(Exception):
                self.close()


class _AsyncClosingClient(httpx.AsyncClient):
    def __del__(self) -> None:
        if not self.is_closed:
            with contextlib.suppress(Exception):
                asyncio.get_running_loop().create_task(self.aclose())


def visitor_client(policy: VisitorEndpoints, **options: Any) -> httpx.Client:
    """An ``httpx.Client`` for a visitor's endpoint (``options``: timeout, limits...)."""
    if policy == "off":
        raise EndpointRefusedError(OFF_MESSAGE)
    transport = visitor_transport(policy, limits=options.pop("limits", None))
    return _ClosingClient(transport=transport, trust_env=False, follow_redirects=False, **options)


def avisitor_client(policy: VisitorEndpoints, **options: Any) -> httpx.AsyncClient:
    """An ``httpx.AsyncClient`` for a visitor's endpoint."""
    if policy == "off":
        raise EndpointRefusedError(OFF_MESSAGE)
    transport = avisitor_transport(policy, limits=options.pop("limits", None))
    return _AsyncClosingClient(
        transport=transport, trust_env=False, follow_redirects=False, **options
    )


OFF_MESSAGE = (
    "This app does not let visitors choose endpoints (CHAT_VISITOR_ENDPOINTS=off); "
    "it uses the app's configured endpoint."
)


def check_endpoint(url: str, policy: VisitorEndpoints, resolve: Resolver = system_resolve) -> None:
    """Raise ``EndpointRefusedError`` now for a visitor's URL the policy refuses.

    A courtesy for the sidebar: the connection itself is checked again at connect
    time, so a name that resolves differently later is still refused.
    """
    if policy == "off":
        raise EndpointRefusedError(OFF_MESSAGE)
    if policy == "any":
        return
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise EndpointRefusedError(f"{url[:100]!r} is not a valid URL ({exc}).") from exc
    host = parsed.host
    if parsed.scheme not in ("http", "https") or not host:
        raise EndpointRefusedError(f"{url[:100]!r} is not an http(s) URL.")
    try:
        resolved = resolve(host, parsed.port or (443 if parsed.scheme == "https" else 80))
    except OSError:
        literal = _parse(host)
        resolved = [str(literal)] if literal is not None else []
        if not resolved:
            return  # an unknown name reaches nothing; the connection reports it
    checked_addresses(host, resolved)


def env_free_headers(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """``default_headers`` that omit every header the SDK would take from the environment.

    openai-python (``_client.py``) adds ``OpenAI-Organization`` from ``OPENAI_ORG_ID``,
    ``OpenAI-Project`` from ``OPENAI_PROJECT_ID`` and each ``Name: value`` line of
    ``OPENAI_CUSTOM_HEADERS``; an ``Omit`` under the same name removes each one.
    """
    env = os.environ if env is None else env
    names = ["OpenAI-Organization", "OpenAI-Project"]
    for line in env.get("OPENAI_CUSTOM_HEADERS", "").split("\n"):
        if (colon := line.find(":")) >= 0:
            names.append(line[:colon].strip())  # parsed exactly as the SDK parses it
    return cast(dict[str, str], dict.fromkeys(names, openai.Omit()))


def env_free(client: Any) -> Any:
    """A visitor's SDK client, without the admin key the SDK read from the environment."""
    # The key was passed; the admin key is only ever sent to admin endpoints, but the
    # SDK read it from OPENAI_ADMIN_KEY, so a visitor's client drops it all the same.
    client.admin_api_key = None
    return client
