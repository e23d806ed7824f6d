"""The OpenAI-compatible HTTP app over the offline model.

One ``OfflineBackend`` per app, and one ``plan()`` per request: the backend
counts tries, so ``/error KIND times K`` fails only the first K identical
requests, retries included. Prompts are never logged.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from chat_core.backends.directives import parse_directives
from chat_core.backends.offline import OfflineBackend
from chat_core.events import Done, StreamError, Usage, answer_text
from chat_core.openai_stub.dialects import (
    Shaper,
    dialect_for,
    reshape,
    strict_refusal,
    think_seconds,
)
from chat_core.openai_stub.request import CompletionRequest, InvalidRequest, parse_request
from chat_core.openai_stub.responses import ResponsesShaper, parse_responses_request
from chat_core.openai_stub.stream import PlanStream, StubStats, drop_now, hide_drop_tracebacks, play
from chat_core.openai_stub.vision import NO_VISION_ERROR, image_urls, vision_kind, vision_plan
from chat_core.openai_stub.wire import (
    HTTP_ERRORS,
    RATE_LIMIT_HEADERS,
    CompletionMeta,
    completion,
    error_body,
    model_list,
)

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 20 * 1024 * 1024  # images as data URLs


def _error(
    status: int, message: str, type_: str, param: str | None = None, code: str | None = None
) -> JSONResponse:
    headers = RATE_LIMIT_HEADERS if status == 429 else None
    return JSONResponse(error_body(message, type_, param, code), status, headers=headers)


async def _read_json(request: Request) -> object:
    body = bytearray()
    async for part in request.stream():
        body += part
        if len(body) > MAX_BODY_BYTES:
            raise InvalidRequest(None, "The request body is too large.", status=413)
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise InvalidRequest(
            None, "We could not parse the JSON body of your request: it is not valid JSON."
        ) from exc


def create_app(
    tokens_per_second: float = 200.0,
    models: Sequence[str] | None = None,
    *,
    strict_models: bool = False,
    silent: bool = False,
) -> Starlette:
    """The stub as an ASGI app; ``tokens_per_second`` is the offline model's rate.

    Args:
        tokens_per_second: the offline model's rate.
        models: what ``GET /v1/models`` lists (the offline model's name by default),
            for example an OpenAI-style list with embedding and audio models in it.
        strict_models: refuse a model ``models`` does not list with 404 "model not
            found", as Ollama does (the dialects then come from the served names only).
        silent: accept every ``/v1`` request and never answer it: a server that hangs.
    """
    backend = OfflineBackend(tokens_per_second=tokens_per_second)
    model_ids = list(models or ())
    stats = StubStats()
    hide_drop_tracebacks()

    async def refusal(model: str) -> Response | None:
        """Silence, or Ollama's 404 for a model it does not serve; None to answer."""
        if silent:
            await asyncio.Event().wait()  # until the server shuts down
        if strict_models and model not in (model_ids or backend.list_models()):
            # Ollama's words and status for a name it has not pulled.
            message = f'model "{model[:100]}" not found, try pulling it first'
            return _error(404, message, "api_error")
        return None

    def image_answer(parsed: CompletionRequest, body: object) -> Response | None:
        """The image dialects (``vision.py``): llama.cpp's 500, or what a vision model saw."""
        kind, urls = vision_kind(parsed.model), image_urls(body)
        if kind is None or not urls:
            return None
        if kind == "novision":
            return _error(500, NO_VISION_ERROR, "server_error")
        if not parsed.stream:
            return None  # the plain answer below: a vision reply is a streamed one
        plan = vision_plan(urls, parsed.conversation.prompt, tokens_per_second)
        shaper = Shaper("openai", CompletionMeta(parsed.model), parsed.include_usage)
        return PlanStream(play(plan, shaper, drop_after=None, stats=stats))

    async def chat_completions(request: Request) -> Response:
        stats.requests += 1
        try:
            body = await _read_json(request)
            parsed = parse_request(body)
        except InvalidRequest as exc:
            return _error(exc.status, exc.message, "invalid_request_error", exc.param, exc.code)
        if (refused := await refusal(parsed.model)) is not None:
            return refused
        dialect = dialect_for(parsed.model)
        if dialect == "strict" and (strict := strict_refusal(body)):  # type: ignore[arg-type]
            return _error(400, strict[0], "invalid_request_error", strict[1], strict[2])
        if (images := image_answer(parsed, body)) is not None:
            return images
        if "noschema" in parsed.model.lower() and "response_format" in body:  # type: ignore[operator]
            # A server without structured output (as Azure and older vLLM refuse it); a schema
            # in the system prompt (the fallback) is answered.
            message = "Unrecognized request argument supplied: response_format"
            return _error(400, message, "invalid_request_error", "response_format")
        log.info(
            "chat completion: stream=%s messages=%d",
            parsed.stream,
            len(parsed.conversation.messages),
        )
        # Exactly once: the back end counts tries (/error ... times K).
        plan = reshape(
            dialect,
            backend.plan(parsed.conversation, parsed.params, think_s=think_seconds(dialect)),
        )
        drop_after = parse_directives(parsed.conversation.prompt).drop_after
        meta = CompletionMeta(parsed.model)
        failure = next(((t, e) for t, e in plan if isinstance(e, StreamError)), None)
        # A failure after some tokens is an in-stream error event; before the first token the
        # real API answers with an HTTP error instead (a cut connection is a cut either way).
        in_stream = (
            failure is None or failure[1].code == "connection" or plan[0][1] is not failure[1]
        )
        if parsed.stream and in_stream:
            planned = next((e for _, e in plan if isinstance(e, Usage)), None)
            shaper = Shaper(
                dialect,
                meta,
                parsed.include_usage,
                prompt_tokens=planned.prompt_tokens if planned else 0,
            )
            return PlanStream(play(plan, shaper, drop_after=drop_after, stats=stats))
        await asyncio.sleep(failure[0] if failure else plan[-1][0])  # the plan's time (stalls)
        if (failure is not None and failure[1].code == "connection") or drop_after is not None:
            return PlanStream(drop_now())
        if failure is not None:
            error = failure[1]
            status, type_, code = HTTP_ERRORS.get(error.code, (500, "server_error", None))
            return _error(status, error.message, type_, None, code)
        events = [e for _, e in plan]
        usage = next(e for e in events if isinstance(e, Usage))
        done = next(e for e in events if isinstance(e, Done))
        return JSONResponse(completion(meta, answer_text(events), done.finish_reason, usage))

    async def responses(request: Request) -> Response:
        stats.requests += 1
        try:
            body = await _read_json(request)
            parsed = parse_responses_request(body)
        except InvalidRequest as exc:
            return _error(exc.status, exc.message, "invalid_request_error", exc.param, exc.code)
        if (refused := await refusal(parsed.model)) is not None:
            return refused
        dialect = dialect_for(parsed.model)
        strict = strict_refusal(body, responses=True) if dialect == "strict" else None  # type: ignore[arg-type]
        if strict:
            return _error(400, strict[0], "invalid_request_error", strict[1], strict[2])
        log.info("response: messages=%d", len(parsed.conversation.messages))
        kind, urls = vision_kind(parsed.model), image_urls(body)
        if kind == "novision" and urls:
            return _error(500, NO_VISION_ERROR.replace("image_url", "input_image"), "server_error")
        if kind == "vision" and urls:  # input_image parts: what the vision model saw
            seen = vision_plan(urls, parsed.conversation.prompt, tokens_per_second)
            shaper = ResponsesShaper(dialect, parsed.model, parsed.summary)
            return PlanStream(play(seen, shaper, drop_after=None, stats=stats))
        plan = reshape(
            dialect,
            backend.plan(parsed.conversation, parsed.params, think_s=think_seconds(dialect)),
        )
        drop_after = parse_directives(parsed.conversation.prompt).drop_after
        failure = next(((t, e) for t, e in plan if isinstance(e, StreamError)), None)
        if failure is not None and plan[0][1] is failure[1] and failure[1].code != "connection":
            await asyncio.sleep(failure[0])  # before the first token: an HTTP error
            status, type_, code = HTTP_ERRORS.get(failure[1].code, (500, "server_error", None))
            return _error(status, failure[1].message, type_, None, code)
        shaper = ResponsesShaper(dialect, parsed.model, parsed.summary)
        return PlanStream(play(plan, shaper, drop_after=drop_after, stats=stats))

    async def list_models(request: Request) -> Response:
        if silent:
            await asyncio.Event().wait()
        return JSONResponse(model_list(model_ids or backend.list_models()))

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def get_stats(request: Request) -> Response:
        return JSONResponse(stats.snapshot())

    async def reset_stats(request: Request) -> Response:
        stats.reset()
        return JSONResponse(stats.snapshot())

    async def not_found(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 404
        message = f"Invalid URL ({request.method} {request.url.path})"
        return _error(status, message, "invalid_request_error")

    routes = [
        Route("/v1/chat/completions", chat_completions, methods=["POST"]),
        Route("/v1/responses", responses, methods=["POST"]),
        Route("/v1/models", list_models, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/_stub/stats", get_stats, methods=["GET"]),
        Route("/_stub/reset", reset_stats, methods=["POST"]),
    ]
    handlers = {404: not_found, 405: not_found}
    app = Starlette(routes=routes, exception_handlers=handlers)
    app.state.stats = stats
    app.state.backend = backend
    return app
