"""The FastAPI app: wire protocol v1 routes over a ``Gateway`` (see DESIGN.md).

Routes are thin: check the token, validate (``requests``), then let the
``Gateway`` start or find a run and attach the response to it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Header, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response
from starlette.requests import ClientDisconnect

from chat_core.backends import Backend, make_backend
from chat_core.errors import ValidationError
from chat_core.gateway.access import Caller
from chat_core.gateway.config import GatewayConfig
from chat_core.gateway.refusals import error_response, invalid_response
from chat_core.gateway.requests import BODY_SCHEMA, parse_body, parse_query, read_body
from chat_core.gateway.service import Gateway
from chat_core.runs import RunStore, make_run_store
from chat_core.settings import Settings, load_settings
from chat_core.wire import STREAM_ID_HEADER, STREAM_PATH

log = logging.getLogger("chat_core.gateway")

_SSE_DOC: dict[int | str, dict[str, Any]] = {
    200: {"description": "the event stream", "content": {"text/event-stream": {}}},
}
_GET_FIELDS = ("message", "history", "model", "temperature", "max_tokens", "system", "tools")
_GET_PARAMETERS = [
    {"name": name, "in": where, "required": False, "schema": {"type": "string"}, "description": doc}
    for name, where, doc in [
        ("message", "query", "the prompt"),
        ("history", "query", "a JSON list of {role, content}"),
        ("model", "query", "a model name"),
        ("temperature", "query", "a number"),
        ("max_tokens", "query", "an integer"),
        ("system", "query", "the system prompt"),
        ("tools", "query", "a JSON list of tool definitions"),
        ("ticket", "query", "from POST /api/chat/ticket"),
        ("Last-Event-ID", "header", "resume after this <stream id>:<seq>"),
    ]
]


def create_app(
    settings: Settings | None = None,
    *,
    backend: Backend | None = None,
    config: GatewayConfig | None = None,
    store: RunStore | None = None,
) -> FastAPI:
    """The gateway app; the back end, config and run store default to what ``settings`` say.

    ``create_app()`` with no arguments is also uvicorn's factory for ``--workers``.
    """
    if backend is None or config is None or store is None:
        settings = settings or load_settings()
        config = config or GatewayConfig.from_settings(settings)
        backend = backend or make_backend(settings)
        store = store or make_run_store(
            settings.redis_url, max_active=config.max_streams, ttl_s=config.ttl_s
        )
    gateway = Gateway(backend, config, store)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await store.open()
        yield
        if store.active:
            log.info("shutdown: cancelling %d streams", store.active)
        await gateway.orphans.aclose()
        await store.close()  # close upstream responses, bill no more
        await gateway.backend.aclose()  # its pooled upstream connections

    app = FastAPI(
        title="Streaming chat gateway",
        version="1",
        summary="Wire protocol v1: SSE chat streams that survive dropped connections.",
        lifespan=lifespan,
    )
    app.state.gateway = gateway

    @app.exception_handler(Exception)
    async def unexpected(_request: Request, exc: Exception) -> JSONResponse:
        """A bug is a JSON 500 like every other refusal, its details only in the log."""
        log.error("unexpected error: %s (traceback below)", type(exc).__name__)
        return error_response(
            500, "internal", None, "Unexpected error; the request was not served."
        )

    if config.cors_origins:
        # No credentials are ever allowed: the token travels in a header, not a cookie.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(config.cors_origins),
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Last-Event-ID"],
            expose_headers=[STREAM_ID_HEADER, "Retry-After"],
            allow_credentials=False,
            max_age=600,
        )

    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, Any]:
        """Liveness, the back end's name and the current load."""
        return {
            "status": "ok",
            "backend": gateway.backend.name,
            "run_store": gateway.store.name,
            "active_streams": gateway.store.active,
            "open_connections": gateway.connections,
        }

    @app.post(
        STREAM_PATH,
        tags=["stream"],
        responses=_SSE_DOC,
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": BODY_SCHEMA}},
            }
        },
    )
    async def stream_post(request: Request) -> Response:
        """Start an answer (JSON body) and stream it as SSE."""
        caller = gateway.access.authorize(request)
        if not isinstance(caller, Caller):
            return caller
        try:
            raw = await read_body(
                request.stream(), request.headers.get("content-length"), config.max_body_bytes
            )
            # Images are decoded and re-encoded: off the event loop, so streams flow meanwhile.
            chat = await asyncio.to_thread(parse_body, raw, config.attachments)
        except ValidationError as exc:
            return invalid_response(exc)
        except ClientDisconnect:  # gone mid-body (or cut by the request deadline)
            return Response(status_code=400)
        return await gateway.start(chat, caller.client)

    @app.post("/api/chat/ticket", tags=["stream"])
    async def ticket(request: Request) -> JSONResponse:
        """A one-use ticket (60 s) for ``GET /api/chat/stream?...&ticket=`` (EventSource)."""
        return gateway.access.issue_ticket(request)

    @app.get(
        STREAM_PATH,
        tags=["stream"],
        responses=_SSE_DOC,
        openapi_extra={"parameters": _GET_PARAMETERS},
    )
    async def stream_get(request: Request) -> Response:
        """Seed-compatible: start an answer from query parameters (EventSource).

        With a Last-Event-ID header (an EventSource reconnecting) it resumes the
        stream instead of asking the question again. Behind a token, a browser's
        EventSource passes a ``ticket``: it starts one stream, then resumes only it.
        """
        # The query is read as it is (``parse_query`` validates it): FastAPI's checks of
        # ten declared parameters were about a tenth of a stream's CPU in a burst.
        params = request.query_params
        last_event_id = request.headers.get("last-event-id")
        caller = gateway.access.authorize(
            request, ticket=params.get("ticket"), last_event_id=last_event_id
        )
        if not isinstance(caller, Caller):
            return caller
        if last_event_id:  # an empty header is no id: a fresh question
            return await gateway.resume(None, last_event_id)
        try:
            chat = parse_query({k: params[k] for k in _GET_FIELDS if k in params})
        except ValidationError as exc:
            return invalid_response(exc)
        response = await gateway.start(chat, caller.client)
        if caller.ticket is not None and (stream_id := response.headers.get(STREAM_ID_HEADER)):
            gateway.access.tickets.bind(caller.ticket, stream_id)
        return response

    @app.get(STREAM_PATH + "/{stream_id}", tags=["stream"], responses=_SSE_DOC)
    async def stream_resume(
        request: Request,
        stream_id: str,
        last_event_id: str | None = Header(None, alias="Last-Event-ID"),
    ) -> Response:
        """Resume: every event after Last-Event-ID's seq, then live. 204 when unknown."""
        caller = gateway.access.authorize(request)
        if not isinstance(caller, Caller):
            return caller
        return await gateway.resume(stream_id, last_event_id)

    @app.delete(STREAM_PATH + "/{stream_id}", tags=["stream"])
    async def stream_cancel(request: Request, stream_id: str) -> Response:
        """Stop generating now: the upstream response is closed, the partial answer kept."""
        caller = gateway.access.authorize(request)
        if not isinstance(caller, Caller):
            return caller
        return await gateway.cancel(stream_id)

    return app
