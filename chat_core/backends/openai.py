"""The OpenAI back end, over the official SDK (any OpenAI-compatible base URL).

OpenAI's own endpoint streams through the Responses API (where its reasoning
models expose reasoning summaries), every other server through Chat Completions
(``api``: ``auto`` | ``responses`` | ``chat``). A 400 refusing a parameter is
retried once, adapted, and remembered for the (endpoint, model): see
``openai_params``. Every SDK and transport failure, before or during the stream,
becomes a ``StreamError`` with a stable code; the HTTP response is closed in
``finally`` whenever the consumer stops early (Stop, or a Streamlit rerun
abandoning the generator), which closes the upstream at once.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any, Literal, cast

import httpx
import openai

from chat_core.backends.endpoints import CONNECT_TIMEOUT_S, DEFAULT_FIRST_BYTE_TIMEOUT_S, where
from chat_core.backends.openai_chat import ChatChunkReader
from chat_core.backends.openai_errors import error_event
from chat_core.backends.openai_params import (
    MEMORY,
    ParamMemory,
    ParamStyle,
    adapt,
    chat_request,
    is_openai_endpoint,
    responses_request,
)
from chat_core.backends.openai_responses import ResponsesEventReader
from chat_core.backends.openai_retry import MID_ANSWER_SILENCE_S, Retries, first_within, within
from chat_core.backends.visitor_http import (
    avisitor_client,
    env_free,
    env_free_headers,
    visitor_client,
)
from chat_core.errors import ConfigError
from chat_core.events import Done, StreamError, StreamEvent
from chat_core.messages import Conversation, GenerationParams
from chat_core.settings import OPENAI_API_CHOICES as OPENAI_APIS
from chat_core.settings import VisitorEndpoints

log = logging.getLogger(__name__)

# The read timeout is the first-byte timeout (and the longest silence mid-answer).
DEFAULT_TIMEOUT = httpx.Timeout(DEFAULT_FIRST_BYTE_TIMEOUT_S, connect=CONNECT_TIMEOUT_S)
# The model list is fetched in the background (a page waits for it briefly): no retries.
MODEL_LIST_TIMEOUT = httpx.Timeout(8.0, connect=3.0)
# Sent as the key to keyless local servers: never None, or the SDK reads OPENAI_API_KEY.
PLACEHOLDER_KEY = "not-needed"

ApiName = Literal["responses", "chat"]

__all__ = ["DEFAULT_TIMEOUT", "OPENAI_APIS", "OpenAIBackend", "error_event"]


class OpenAIBackend:
    """Streams from the Responses or Chat Completions API, usage reported at the end.

    ``visitor``: the endpoint was typed by a visitor, so its clients take nothing from the
    environment, follow no redirects, obey the policy, and its errors show no body.
    ``timeout``'s read timeout is the first-byte timeout; ``quiet_s`` the longest silence of
    an answer once begun (``astream``; ``stream`` keeps the read timeout throughout).
    """

    name = "openai"

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        model: str = "gpt-4o-mini",
        api: str = "auto",
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        max_retries: int = 2,
        memory: ParamMemory = MEMORY,
        visitor: VisitorEndpoints | None = None,
        quiet_s: float | None = None,
        label: str | None = None,
    ) -> None:
        if not api_key and not base_url:
            raise ConfigError(
                "The OpenAI back end needs OPENAI_API_KEY (or OPENAI_BASE_URL for a local server)."
            )
        if api not in OPENAI_APIS:
            raise ConfigError(f"CHAT_OPENAI_API must be one of {', '.join(OPENAI_APIS)}")
        if visitor is not None and not base_url:
            raise ConfigError("A visitor's endpoint needs its base URL.")
        # Local OpenAI-compatible servers (Ollama, vLLM, LM Studio) accept any key.
        # The SDK retries nothing: ``_open`` does, visibly, and never after silence.
        self._options: dict[str, Any] = {
            "api_key": api_key or PLACEHOLDER_KEY,
            "base_url": base_url or None,
            "timeout": timeout,
            "max_retries": 0,
        }
        timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        self.first_byte_s = timeout.read or DEFAULT_FIRST_BYTE_TIMEOUT_S
        # Streams: the first byte within first_byte_s (``within``), then reads may wait longer.
        quiet_s = quiet_s or max(self.first_byte_s, MID_ANSWER_SILENCE_S)
        self._answer_timeout = httpx.Timeout(quiet_s, connect=timeout.connect)
        self.visitor = visitor
        if visitor is not None:
            self._options["default_headers"] = env_free_headers()
        self.base_url = base_url or None
        self.model = model
        auto: ApiName = "responses" if is_openai_endpoint(base_url) else "chat"
        self.api: ApiName = auto if api == "auto" else cast(ApiName, api)
        self._memory = memory
        # What messages call the server: its host:port, or a label that hides it from visitors.
        self.label = label
        self._retries = Retries(max_retries, label or where(self.base_url))
        self._sync: openai.OpenAI | None = None
        self._async: openai.AsyncOpenAI | None = None

    @property
    def client(self) -> openai.OpenAI:
        if self._sync is None:
            if self.visitor is None:
                self._sync = openai.OpenAI(**self._options)
            else:
                http = visitor_client(self.visitor, timeout=self._options["timeout"])
                self._sync = env_free(openai.OpenAI(**self._options, http_client=http))
        return self._sync

    @property
    def aclient(self) -> openai.AsyncOpenAI:
        if self._async is None:
            if self.visitor is None:
                self._async = openai.AsyncOpenAI(**self._options)
            else:
                http = avisitor_client(self.visitor, timeout=self._options["timeout"])
                self._async = env_free(openai.AsyncOpenAI(**self._options, http_client=http))
        return self._async

    def _request(
        self, conversation: Conversation, params: GenerationParams, style: ParamStyle
    ) -> dict[str, Any]:
        build = responses_request if self.api == "responses" else chat_request
        return build(conversation, params, params.model or self.model, style)

    def _reader(self) -> ChatChunkReader | ResponsesEventReader:
        return ResponsesEventReader() if self.api == "responses" else ChatChunkReader()

    def _adapted(self, exc: Exception, model: str, style: ParamStyle) -> ParamStyle | None:
        """The style to retry with after a refusal, remembered; None when not adaptable."""
        if not isinstance(exc, openai.APIStatusError):
            return None
        better = adapt(style, exc.status_code, exc.body)
        if better is not None:
            self._memory.learn(self.base_url, model, better)
            log.info("model %s refused a parameter; retrying with %s", model, better)
        return better

    def _open(self, conversation: Conversation, params: GenerationParams) -> Any:
        return self._retries.call(lambda: self._open_once(conversation, params))

    async def _aopen(self, conversation: Conversation, params: GenerationParams) -> Any:
        return await self._retries.acall(lambda: self._aopen_once(conversation, params))

    @property
    def _url(self) -> str:
        return self.base_url or "https://api.openai.com/v1"

    @property
    def retrying(self) -> tuple[int, int] | None:
        """(try, of) while a failed request is being tried again, for the waiting line."""
        return self._retries.current

    def _open_once(self, conversation: Conversation, params: GenerationParams) -> Any:
        model = params.model or self.model
        style = self._memory.get(self.base_url, model)
        create: Any = (
            self.client.responses.create
            if self.api == "responses"
            else self.client.chat.completions.create
        )
        try:
            return create(**self._request(conversation, params, style))
        except Exception as exc:
            better = self._adapted(exc, model, style)
            if better is None:
                raise
            try:
                return create(**self._request(conversation, params, better))  # once only
            except Exception as again:
                self._adapted(again, model, better)  # not retried, but right next time
                raise

    async def _aopen_once(self, conversation: Conversation, params: GenerationParams) -> Any:
        model = params.model or self.model
        style = self._memory.get(self.base_url, model)
        create: Any = (
            self.aclient.responses.create
            if self.api == "responses"
            else self.aclient.chat.completions.create
        )

        async def send(how: ParamStyle) -> Any:
            request = self._request(conversation, params, how)
            opening = create(**request, timeout=self._answer_timeout)
            return await within(self.first_byte_s, opening, self._url)

        try:
            return await send(style)
        except Exception as exc:
            better = self._adapted(exc, model, style)
            if better is None:
                raise
            try:
                return await send(better)
            except Exception as again:
                self._adapted(again, model, better)
                raise

    def stream(self, conversation: Conversation, params: GenerationParams) -> Iterator[StreamEvent]:
        reader = self._reader()
        try:
            sdk_stream = self._open(conversation, params)
        except Exception as exc:
            yield self._failed(exc)
            yield Done("error")
            return
        try:
            for item in sdk_stream:
                for event in reader.read(item):
                    yield event
                    if isinstance(event, Done):
                        return
            yield from reader.end()
        except Exception as exc:
            yield self._failed(exc)
            yield Done("error")
        finally:
            sdk_stream.close()

    async def astream(
        self, conversation: Conversation, params: GenerationParams
    ) -> AsyncIterator[StreamEvent]:
        reader = self._reader()
        try:
            sdk_stream = await self._aopen(conversation, params)
        except Exception as exc:
            yield self._failed(exc)
            yield Done("error")
            return
        try:
            async for item in first_within(self.first_byte_s, sdk_stream, self._url):
                for event in reader.read(item):
                    yield event
                    if isinstance(event, Done):
                        return
            for event in reader.end():
                yield event
        except Exception as exc:
            yield self._failed(exc)
            yield Done("error")
        finally:
            await sdk_stream.close()

    async def aclose(self) -> None:
        if self._async is not None:
            await self._async.close()
            self._async = None

    def list_models(self) -> list[str]:
        try:
            return self.fetch_models()
        except Exception as exc:
            log.info("model list unavailable: %s", type(exc).__name__)
            return []

    def fetch_models(self) -> list[str]:
        """``GET /models`` with a short timeout and no retries, in the server's order."""
        page = self.client.with_options(timeout=MODEL_LIST_TIMEOUT, max_retries=0).models.list()
        return [m.id for m in page.data if isinstance(m.id, str)]

    def _failed(self, exc: BaseException) -> StreamError:
        return _failed(
            exc,
            show_body=self.visitor is None,
            base_url=self.base_url,
            first_byte_s=self.first_byte_s,
            label=self.label,
        )


def _failed(
    exc: BaseException,
    *,
    show_body: bool = True,
    base_url: str | None = None,
    first_byte_s: float | None = None,
    label: str | None = None,
) -> StreamError:
    event = error_event(
        exc, show_body=show_body, base_url=base_url, first_byte_s=first_byte_s, label=label
    )
    level = logging.WARNING if event.code == "internal" else logging.INFO
    log.log(
        level,
        "openai stream failed: code=%s type=%s",
        event.code,
        type(exc).__name__,
        exc_info=event.code == "internal",
    )
    return event
