"""``X-Robots-Tag: noindex`` on the shared page's responses: an ASGI middleware (pure, no I/O).

``streamlit run`` has no setting for response headers (Streamlit 1.67's ``server.*``
options have none), so the header needs the app served as an ASGI app: ``st.App`` takes
middleware (``served_app.py``). Streamlit serves one HTML page for every page path;
this names the ``/shared`` path only, so the rest of the app is indexed or not as the
owner likes. The page itself adds ``<meta name="robots">`` for crawlers that run scripts.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from chat_core.sharing.links import SHARED_PAGE

__all__ = ["NOINDEX", "NoIndexShared"]

NOINDEX = b"noindex, nofollow"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class NoIndexShared:
    """Adds ``X-Robots-Tag: noindex, nofollow`` to HTTP responses for the shared page's path."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", "")).rstrip("/")
        # under server.baseUrlPath too: /base/shared
        if scope["type"] != "http" or path.rsplit("/", 1)[-1] != SHARED_PAGE:
            await self.app(scope, receive, send)
            return

        async def send_tagged(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", []) if h[0].lower() != b"x-robots-tag"]
                message["headers"] = [*headers, (b"x-robots-tag", NOINDEX)]
            await send(message)

        await self.app(scope, receive, send_tagged)
