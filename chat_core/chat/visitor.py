"""What the sidebar offers a visitor for endpoints, decided outside the page.

The owner's configured URLs are never shown: a field starts empty, and its
placeholder says "the app's configured endpoint" when the owner set one.
``CHAT_VISITOR_ENDPOINTS=off`` hides the fields altogether.
"""

from __future__ import annotations

from dataclasses import dataclass

from chat_core.settings import Settings, VisitorEndpoints, visitor_endpoints_policy

CONFIGURED_PLACEHOLDER = "the app's configured endpoint"


@dataclass(frozen=True)
class EndpointFields:
    """Whether to show the endpoint fields, their placeholders and help."""

    shown: bool
    base_url_placeholder: str
    remote_url_placeholder: str
    help: str


def with_listening_address(settings: Settings, server_address: str | None) -> Settings:
    """``settings`` with ``CHAT_VISITOR_ENDPOINTS`` resolved for where the app listens."""
    policy: VisitorEndpoints = visitor_endpoints_policy(settings.visitor_endpoints, server_address)
    return settings.with_overrides(visitor_endpoints=policy)


def endpoint_fields(settings: Settings) -> EndpointFields:
    """The endpoint fields for ``settings.visitor_policy`` and the owner's configuration."""
    policy = settings.visitor_policy
    public = policy == "public"
    base_example = "https://api.openai.com/v1"
    remote_example = (
        "https://gateway.example.com/api/chat/stream"
        if public
        else "http://127.0.0.1:8000/api/chat/stream"
    )
    where = "public addresses only" if public else "any address"
    return EndpointFields(
        shown=policy != "off",
        base_url_placeholder=CONFIGURED_PLACEHOLDER if settings.openai_base_url else base_example,
        remote_url_placeholder=CONFIGURED_PLACEHOLDER if settings.remote_url else remote_example,
        help=(
            f"Your own endpoint ({where}). It gets only the key or token you type here, "
            "never the app's."
        ),
    )
