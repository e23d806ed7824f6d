"""A ``StreamingResponse`` of SSE bytes that always closes its body generator.

Starlette stops iterating on ``http.disconnect`` but leaves a suspended body
generator to the garbage collector; closing it here runs its ``finally`` as soon
as the client goes. Shared by the gateway and the OpenAI stub.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping

import anyio
from starlette.responses import StreamingResponse
from starlette.types import Send

# No caching, and no buffering by nginx-style proxies (sse-starlette sets the same), so each
# event reaches the client when it is written.
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


class SSEResponse(StreamingResponse):
    """``text/event-stream`` from an async generator of pre-encoded bytes, with the SSE headers."""

    def __init__(
        self, body: AsyncGenerator[bytes, None], headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(
            body, media_type="text/event-stream", headers={**SSE_HEADERS, **(headers or {})}
        )
        self._body = body

    async def stream_response(self, send: Send) -> None:
        try:
            await super().stream_response(send)
        finally:
            with anyio.CancelScope(shield=True):
                await self._body.aclose()
