"""The OpenAI back end, over the official SDK (any OpenAI-compatible base URL).

Every SDK and transport failure, before or during the stream, becomes a
``StreamError`` with a stable code; the HTTP response is closed in ``finally``
whenever the consumer stops early (a Streamlit rerun abandons generators).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import openai

from chat_core.errors import ConfigError
from chat_core.events import Done, FinishReason, StreamError, StreamEvent, TextDelta, Usage
from chat_core.messages import Conversation, GenerationParams

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=10.0)


def _api_message(exc: openai.APIError) -> str:
    body = exc.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and isinstance(inner.get("message"), str):
            return " ".join(str(inner["message"]).split())[:200]
    return " ".join(str(exc.message).split())[:200]


def error_event(exc: BaseException) -> StreamError:
    """Map an SDK or transport exception to a StreamError with a stable code."""
    if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
        return StreamError(
            "auth",
            f"The API key was rejected ({exc.status_code}). Check OPENAI_API_KEY "
            "or the key in the sidebar.",
            False,
        )
    if isinstance(exc, openai.RateLimitError):
        if isinstance(exc.body, dict) and "insufficient_quota" in str(exc.body):
            return StreamError(
                "rate_limit", "The account is out of quota (429). Check its billing.", False
            )
        return StreamError(
            "rate_limit",
            "Rate limited by the model provider (429). Wait a moment, then retry.",
            True,
        )
    if isinstance(exc, openai.APITimeoutError | httpx.TimeoutException):
        return StreamError("timeout", "The model took too long to answer. Retry.", True)
    if isinstance(exc, openai.APIConnectionError | httpx.TransportError):
        return StreamError(
            "connection", "The connection to the model server failed or was cut. Retry.", True
        )
    if isinstance(exc, openai.APIStatusError):
        if exc.status_code >= 500:
            return StreamError(
                "server", f"The model server failed ({exc.status_code}). Retry in a moment.", True
            )
        if exc.status_code == 408:
            return StreamError("timeout", "The model server timed out (408). Retry.", True)
        return StreamError(
            "bad_request",
            f"The request was refused ({exc.status_code}): {_api_message(exc)}",
            False,
        )
    if isinstance(exc, openai.APIError):  # an error event inside the stream
        return StreamError(
            "server", f"The model server reported an error: {_api_message(exc)}", True
        )
    return StreamError("internal", "Unexpected error while streaming; see the server log.", False)


def _finish(reason: str | None) -> FinishReason:
    return "length" if reason == "length" else "stop"


class OpenAIBackend:
    """Streams from the Chat Completions API with usage reported at the end."""

    name = "openai"

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        model: str = "gpt-4o-mini",
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        max_retries: int = 2,
    ) -> None:
        if not api_key and not base_url:
            raise ConfigError(
                "The OpenAI back end needs OPENAI_API_KEY (or OPENAI_BASE_URL for a local server)."
            )
        # Local OpenAI-compatible servers (Ollama, vLLM, LM Studio) accept any key.
        self._options: dict[str, Any] = {
            "api_key": api_key or "not-needed",
            "base_url": base_url or None,
            "timeout": timeout,
            "max_retries": max_retries,
        }
        self.model = model
        self._sync: openai.OpenAI | None = None
        self._async: openai.AsyncOpenAI | None = None

    @property
    def client(self) -> openai.OpenAI:
        if self._sync is None:
            self._sync = openai.OpenAI(**self._options)
        return self._sync

    @property
    def aclient(self) -> openai.AsyncOpenAI:
        if self._async is None:
            self._async = openai.AsyncOpenAI(**self._options)
        return self._async

    def _request(self, conversation: Conversation, params: GenerationParams) -> dict[str, Any]:
        return {
            "model": params.model or self.model,
            "messages": conversation.to_openai(params.system),
            "temperature": params.temperature,
            "max_tokens": params.max_tokens,
            "stream": True,
            "stream_options": {"include_usage": True},
        }

    @staticmethod
    def _events(chunk: Any, state: dict[str, str | None]) -> Iterator[StreamEvent]:
        if chunk.usage is not None:
            yield Usage(chunk.usage.prompt_tokens, chunk.usage.completion_tokens)
        for choice in chunk.choices:
            if choice.delta is not None and choice.delta.content:
                yield TextDelta(choice.delta.content)
            if choice.finish_reason:
                state["finish"] = choice.finish_reason

    def stream(self, conversation: Conversation, params: GenerationParams) -> Iterator[StreamEvent]:
        try:
            sdk_stream = self.client.chat.completions.create(**self._request(conversation, params))
        except Exception as exc:
            yield _failed(exc)
            yield Done("error")
            return
        state: dict[str, str | None] = {"finish": None}
        try:
            for chunk in sdk_stream:
                yield from self._events(chunk, state)
        except Exception as exc:
            yield _failed(exc)
            yield Done("error")
            return
        finally:
            sdk_stream.close()
        yield Done(_finish(state["finish"]))

    async def astream(
        self, conversation: Conversation, params: GenerationParams
    ) -> AsyncIterator[StreamEvent]:
        try:
            sdk_stream = await self.aclient.chat.completions.create(
                **self._request(conversation, params)
            )
        except Exception as exc:
            yield _failed(exc)
            yield Done("error")
            return
        state: dict[str, str | None] = {"finish": None}
        try:
            async for chunk in sdk_stream:
                for event in self._events(chunk, state):
                    yield event
        except Exception as exc:
            yield _failed(exc)
            yield Done("error")
            return
        finally:
            await sdk_stream.close()
        yield Done(_finish(state["finish"]))

    async def aclose(self) -> None:
        if self._async is not None:
            await self._async.close()
            self._async = None

    def list_models(self) -> list[str]:
        try:
            page = self.client.with_options(timeout=5.0, max_retries=0).models.list()
            return sorted(m.id for m in page.data)
        except Exception as exc:
            log.info("model list unavailable: %s", type(exc).__name__)
            return []


def _failed(exc: BaseException) -> StreamError:
    event = error_event(exc)
    level = logging.WARNING if event.code == "internal" else logging.INFO
    log.log(
        level,
        "openai stream failed: code=%s type=%s",
        event.code,
        type(exc).__name__,
        exc_info=event.code == "internal",
    )
    return event
