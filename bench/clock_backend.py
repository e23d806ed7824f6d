"""A back end whose every token is the time it was made, and a gateway serving it.

Each ``TextDelta`` is ``"<time.monotonic()> "`` taken at the moment the back end
yields it, so a consumer in any process on this machine (one monotonic clock on
Linux) knows exactly how long that chunk took to reach it.
``python -m bench.clock_backend --port P --tps 50 --tokens 300`` serves it
through the real gateway (``create_app(backend=...)``).
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import AsyncIterator, Iterator

from chat_core import Conversation, Done, GenerationParams, StreamEvent, TextDelta, Usage


class ClockBackend:
    """``tokens`` timestamps at ``tokens_per_second``, then usage and done."""

    name = "clock"

    def __init__(self, tokens_per_second: float, tokens: int) -> None:
        self.tokens_per_second, self.tokens = tokens_per_second, tokens

    def list_models(self) -> list[str]:
        return ["clock"]

    def stream(self, conversation: Conversation, params: GenerationParams) -> Iterator[StreamEvent]:
        start = time.monotonic()
        for i in range(self.tokens):
            time.sleep(max(0.0, start + i / self.tokens_per_second - time.monotonic()))
            yield TextDelta(f"{time.monotonic():.6f} ")
        yield Usage(1, self.tokens)
        yield Done("stop")

    async def astream(
        self, conversation: Conversation, params: GenerationParams
    ) -> AsyncIterator[StreamEvent]:
        start = time.monotonic()
        for i in range(self.tokens):
            await asyncio.sleep(max(0.0, start + i / self.tokens_per_second - time.monotonic()))
            yield TextDelta(f"{time.monotonic():.6f} ")
        yield Usage(1, self.tokens)
        yield Done("stop")


def main() -> None:
    import uvicorn

    from chat_core.gateway import GatewayConfig, create_app

    parser = argparse.ArgumentParser(prog="python -m bench.clock_backend")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--tps", type=float, default=50.0)
    parser.add_argument("--tokens", type=int, default=300)
    args = parser.parse_args()
    config = GatewayConfig(client_streams=0, client_starts=0)  # the benchmark is one client
    app = create_app(backend=ClockBackend(args.tps, args.tokens), config=config)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
