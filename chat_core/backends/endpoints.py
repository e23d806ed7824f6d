"""Base URLs as people type them: checked when typed, named in messages. Pure, no I/O.

A URL a person typed is checked before anything is sent to it: an http(s) scheme
(``localhost:8931/v1`` parses as scheme ``localhost``), a host, a port in range,
and no ``user:password@`` (a secret in a URL ends up in logs and history; the key
has its own field). Messages never echo a URL that carried credentials.
``where`` names a server the way a person would look for it: ``host:port``.
"""

from __future__ import annotations

from urllib.parse import urlsplit

OPENAI_DEFAULT_BASE = "https://api.openai.com/v1"
MAX_URL_CHARS = 2000
# The connection timeout: a server that exists answers a connection in well under this.
CONNECT_TIMEOUT_S = 5.0
DEFAULT_FIRST_BYTE_TIMEOUT_S = 30.0


def url_problem(url: str, field: str = "Base URL") -> str | None:
    """Why ``url`` cannot be an endpoint, in a sentence; None when it can."""
    text = url.strip()
    if not text:
        return None
    if len(text) > MAX_URL_CHARS:
        return f"{field} is too long (at most {MAX_URL_CHARS} characters)."
    if any(c.isspace() or ord(c) < 32 for c in text):
        return f"{field} has spaces or control characters in it."
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        return f"{field} has an invalid port: use a number from 1 to 65535."
    scheme = parts.scheme.lower()
    if "@" in parts.netloc or "@" in text.split("/")[0]:  # with or without a scheme
        return (
            f"{field} has a user name or password in it: remove it "
            "(put a key in the API key field)."
        )
    if scheme not in ("http", "https"):
        if "://" not in text and scheme not in ("javascript", "data", "file", "vbscript"):
            return f"{field} needs http:// or https:// in front, e.g. http://{text[:100]}."
        return f"{field} must start with http:// or https://."
    if not parts.hostname:
        return f"{field} has no host name: e.g. http://localhost:11434/v1."
    if port == 0:
        return f"{field} has an invalid port: use a number from 1 to 65535."
    return None


def where(base_url: str | None) -> str:
    """``host:port`` of an endpoint, for messages (OpenAI's own when None)."""
    parts = urlsplit((base_url or OPENAI_DEFAULT_BASE).strip())
    host = parts.hostname or "the server"
    if ":" in host:  # an IPv6 literal
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is None:
        port = 443 if parts.scheme == "https" else 80
    return f"{host}:{port}"


def host_name(base_url: str | None) -> str:
    """The host alone, as a waiting line names it."""
    return (urlsplit((base_url or OPENAI_DEFAULT_BASE).strip()).hostname or "the server").lower()


def lacks_v1(base_url: str | None) -> bool:
    """True for a base URL whose path does not end in ``/v1`` (OpenAI-compatible servers do)."""
    if base_url is None:
        return False
    path = urlsplit(base_url.strip()).path.rstrip("/")
    return not path.endswith("/v1")


def with_v1(base_url: str) -> str:
    """The suggestion for a base URL without ``/v1`` (any ``user:password@`` left out)."""
    parts = urlsplit(base_url.strip())
    netloc = parts.netloc.rpartition("@")[2]
    return f"{parts.scheme}://{netloc}{parts.path.rstrip('/')}/v1"


__all__ = [
    "CONNECT_TIMEOUT_S",
    "DEFAULT_FIRST_BYTE_TIMEOUT_S",
    "host_name",
    "lacks_v1",
    "url_problem",
    "where",
    "with_v1",
]
