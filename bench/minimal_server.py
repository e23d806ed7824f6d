"""A minimal async FastAPI SSE server: the floor for one process, for reference only.

No runs, no validation, no back end: an async generator that sleeps to each
token's time (the offline model's schedule) and yields a fixed chunk, then
``done``. ``python -m bench.minimal_server --port P --tps 20``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import AsyncIterator

import uvicorn
from fastapi import FastAPI
from fastapi.responses import StreamingResponse


def create_app(tokens_per_second: float) -> FastAPI:
    app = FastAPI()

    @app.get("/api/chat/stream")
    async def chat_stream(message: str) -> StreamingResponse:
        count = int(message.split()[-1]) if message.startswith("/lorem ") else 40

        async def generate() -> AsyncIterator[str]:
            loop = asyncio.get_running_loop()
            start = loop.time()
            for i in range(count):
                await asyncio.sleep(max(0.0, start + i / tokens_per_second - loop.time()))
                yield f"data: {json.dumps({'chunk': ' lorem'})}\n\n"
            await asyncio.sleep(max(0.0, start + count / tokens_per_second - loop.time()))
            yield f"data: {json.dumps({'done': True})}\n\n"

        return StreamingResponse(generate(), media_type="text/event-stream")

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.minimal_server")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--tps", type=float, default=20.0)
    args = parser.parse_args()
    uvicorn.run(
        create_app(args.tps),
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
        timeout_graceful_shutdown=2,
    )


if __name__ == "__main__":
    main()
