"""A recording listener: any ASGI app behind a wrapper that notes every request's headers.

Canary tests serve the OpenAI stub or the gateway through it on 127.0.0.1 and then
read what each endpoint was sent.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from tests.support.servers import serve_app


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]


@dataclass
class Recorder:
    """Wraps an ASGI app; ``seen`` lists every HTTP request that reached it."""

    app: Any
    seen: list[Seen] = field(default_factory=list)
    url: str = ""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            headers = {
                k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]
            }
            self.seen.append(Seen(scope["method"], scope["path"], headers))
        await self.app(scope, receive, send)

    def header_values(self) -> str:
        """Every header of every request, one text to search for canaries."""
        return "\n".join(f"{k}: {v}" for s in self.seen for k, v in s.headers.items())


@contextlib.contextmanager
def recording(app: Any) -> Iterator[Recorder]:
    """Serve ``app`` behind a ``Recorder`` on 127.0.0.1; the recorder knows its URL."""
    recorder = Recorder(app)
    with serve_app(recorder) as url:
        recorder.url = url
        yield recorder


def redirecting_to(target: str) -> Any:
    """An app that redirects every request (307, keeping method and body) to ``target``."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            message = await receive()
            while message["type"] != "lifespan.shutdown":
                await send({"type": message["type"] + ".complete"})
                message = await receive()
            await send({"type": "lifespan.shutdown.complete"})
            return
        location = target + scope["path"]
        headers = [(b"location", location.encode()), (b"content-length", b"0")]
        await send({"type": "http.response.start", "status": 307, "headers": headers})
        await send({"type": "http.response.body", "body": b""})

    return app
