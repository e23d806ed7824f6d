"""A seed-style SSE server, for comparison only: the original design (docs/architecture.md).

The "AI service" is a sync generator over a blocking upstream, modelled as
``time.sleep`` per token; the endpoint wraps it in another sync generator and
hands it to ``StreamingResponse``, which iterates it in Starlette's thread pool
(anyio's default of 40 threads). Same words as the offline model, same route
and payloads as the seed (``{"chunk": ...}`` then ``{"done": true}``).

``python -m bench.seed_server --port P --tps 20``; never use it for real.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Iterator

import uvicorn
from fastapi import FastAPI
from fastapi.responses import StreamingResponse

from chat_core import GenerationParams, OfflineBackend, TextDelta, build_conversation


def create_app(tokens_per_second: float) -> FastAPI:
    app = FastAPI()
    backend = OfflineBackend(tokens_per_second)

    def stream_chat(message: str, history: list[dict[str, str]]) -> Iterator[str]:
        plan = backend.plan(build_conversation(message, history), GenerationParams())
        for _, event in plan:
            if isinstance(event, TextDelta):
                time.sleep(1.0 / tokens_per_second)  # a blocking read from the upstream
                yield event.text

    @app.get("/api/chat/stream")
    async def chat_stream(message: str, history: str = "[]") -> StreamingResponse:
        def generate() -> Iterator[str]:
            for chunk in stream_chat(message, json.loads(history)):
                yield f"data: {json.dumps({'chunk': chunk})}\n\n"
            yield f"data: {json.dumps({'done': True})}\n\n"

        return StreamingResponse(
            generate(),
            media_type="text/event-stream",
            headers={
                "Cache-Control": "no-cache",
                "Connection": "keep-alive",
                "Access-Control-Allow-Origin": "*",
            },
        )

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.seed_server")
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
