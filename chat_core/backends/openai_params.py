"""Request parameters for OpenAI-compatible servers, adapted to what each model accepts.

OpenAI's reasoning models (o1, o3, o4-mini, gpt-5 and whatever an Azure deployment
calls them) refuse ``max_tokens`` and any temperature but the default with a 400:

    {"error": {"message": "Unsupported parameter: 'max_tokens' is not supported with
     this model. Use 'max_completion_tokens' instead.", "type": "invalid_request_error",
     "param": "max_tokens", "code": "unsupported_parameter"}}
    {"error": {"message": "Unsupported value: 'temperature' does not support 0.7 with
     this model. Only the default (1) value is supported.", ..., "param": "temperature",
     "code": "unsupported_value"}}

``adapt`` reads such a refusal and says how to change the request; the back end
retries once and ``ParamMemory`` remembers the change per (endpoint, model) for the
process, so the next request is right the first time. Pure but for the memory's lock.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from chat_core.attachments.parts import chat_content, responses_content
from chat_core.backends.json_output import (
    chat_response_format,
    fallback_system,
    responses_text_format,
)
from chat_core.messages import Conversation, GenerationParams
from chat_core.tools.definitions import chat_tools, parse_tools, responses_tools

OPENAI_HOST = "api.openai.com"
_AZURE_SUFFIXES = (".openai.azure.com", ".cognitiveservices.azure.com", ".services.ai.azure.com")
# OpenAI's own reasoning families; other names are found out from the server's refusals.
_OPENAI_REASONING = re.compile(r"^(o\d|gpt-5|codex)", re.IGNORECASE)
_QUOTED = re.compile(r"'([A-Za-z_.]+)'")
# What may be left out of a request when a server refuses it; the rest is the request itself.
# A refused response_format / text.format moves the schema into the system prompt.
SCHEMA_REFUSALS = frozenset(("response_format", "text", "text.format"))
_OPTIONAL = SCHEMA_REFUSALS | frozenset(
    ("stream_options", "reasoning_effort", "reasoning", "reasoning.effort", "reasoning.summary")
)
_UNRECOGNIZED = re.compile(r"Unrecognized request argument supplied: ([A-Za-z_.]+)")


def host_of(base_url: str | None) -> str:
    """The lower-case host of a base URL; OpenAI's when there is none."""
    if not base_url:
        return OPENAI_HOST
    return (urlsplit(base_url).hostname or "").lower()


def is_openai_endpoint(base_url: str | None) -> bool:
    """True for api.openai.com (the SDK's default base URL)."""
    return host_of(base_url) == OPENAI_HOST


def is_azure_endpoint(base_url: str | None) -> bool:
    """True for Azure OpenAI and Azure AI Foundry hosts."""
    return host_of(base_url).endswith(_AZURE_SUFFIXES)


@dataclass(frozen=True, slots=True)
class ParamStyle:
    """How one (endpoint, model) wants its parameters."""

    max_tokens_name: str = "max_tokens"  # or "max_completion_tokens"
    send_temperature: bool = True
    dropped: frozenset[str] = frozenset()  # further parameters the model refused

    @classmethod
    def initial(cls, base_url: str | None, model: str) -> ParamStyle:
        """The first guess: modern names for OpenAI and Azure, the classic ones elsewhere."""
        openai_like = is_openai_endpoint(base_url) or is_azure_endpoint(base_url)
        reasoning = is_openai_endpoint(base_url) and bool(_OPENAI_REASONING.match(model))
        return cls(
            max_tokens_name="max_completion_tokens" if openai_like else "max_tokens",
            send_temperature=not reasoning,
        )


def _refusal_parts(body: object) -> tuple[str, str | None, str | None]:
    inner = body.get("error", body) if isinstance(body, Mapping) else None
    if not isinstance(inner, Mapping):
        return "", None, None
    message, param, code = inner.get("message"), inner.get("param"), inner.get("code")
    return (
        message if isinstance(message, str) else "",
        param if isinstance(param, str) else None,
        code if isinstance(code, str) else None,
    )


def adapt(style: ParamStyle, status: int, body: object) -> ParamStyle | None:
    """The style that avoids this refusal, or None when it is not about a parameter."""
    if status != 400:
        return None
    message, param, code = _refusal_parts(body)
    lowered = message.lower()
    if match := _UNRECOGNIZED.search(message):  # Azure and older servers: unknown argument
        param = param or match[1]
    elif "unsupported" in lowered or "not supported" in lowered:
        if param is None and (quoted := _QUOTED.search(message)):
            param = quoted[1]
    elif param == "reasoning.summary" and code == "unsupported_value":
        pass  # "Your organization must be verified to generate reasoning summaries."
    else:
        return None
    if param is None:
        return None
    reasoning_model = (param == "max_tokens" and "max_completion_tokens" in message) or (
        param == "temperature" and "only the default (1) value" in lowered
    )
    new = style
    if param in ("max_tokens", "max_output_tokens") and "max_completion_tokens" in message:
        new = replace(new, max_tokens_name="max_completion_tokens")
    elif param == "max_completion_tokens":  # a server that only knows the classic name
        new = replace(new, max_tokens_name="max_tokens")
    elif param == "temperature":
        new = replace(new, send_temperature=False)
    elif param in _OPTIONAL:
        new = replace(new, dropped=new.dropped | {param})
    else:
        return None
    if reasoning_model:
        # Both hallmarks of a reasoning model come together: fix both in the one retry.
        new = replace(new, max_tokens_name="max_completion_tokens", send_temperature=False)
    return new if new != style else None


class ParamMemory:
    """What each (endpoint, model) accepts, learnt from its refusals, for the process."""

    def __init__(self) -> None:
        self._styles: dict[tuple[str, str], ParamStyle] = {}
        self._lock = threading.Lock()

    def get(self, base_url: str | None, model: str) -> ParamStyle:
        with self._lock:
            found = self._styles.get((base_url or "", model))
        return found or ParamStyle.initial(base_url, model)

    def learn(self, base_url: str | None, model: str, style: ParamStyle) -> None:
        with self._lock:
            self._styles[(base_url or "", model)] = style


MEMORY = ParamMemory()  # one per process: every back end instance shares what was learnt


def chat_request(
    conversation: Conversation,
    params: GenerationParams,
    model: str,
    style: ParamStyle,
    *,
    images: bool = True,
    pdf_files: bool = False,
) -> dict[str, Any]:
    """The keyword arguments of ``chat.completions.create`` for one streamed answer
    (``images``: send images as parts, else a line naming each; ``pdf_files``: PDFs as
    ``file`` parts, which only OpenAI's own endpoint takes, else their text)."""
    system, schema = _schema_parts(params, style)
    messages: list[dict[str, Any]] = [{"role": "system", "content": system}] if system else []
    messages += [
        m.to_dict()  # a tool loop's calls and results: no files in them
        if m.role == "tool" or m.tool_calls
        else {"role": m.role, "content": chat_content(m, images=images, pdf_files=pdf_files)}
        for m in conversation.messages
    ]
    request: dict[str, Any] = {
        "model": model,
        "messages": messages,
        style.max_tokens_name: params.max_tokens,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    if style.send_temperature:
        request["temperature"] = params.temperature
    if params.reasoning_effort is not None:
        request["reasoning_effort"] = params.reasoning_effort
    if schema is not None:
        request["response_format"] = chat_response_format(schema)
    if specs := parse_tools(params.tools):
        request["tools"] = chat_tools(specs)
    for name in style.dropped:
        request.pop(name, None)
    return request


def schema_fell_back(params: GenerationParams, style: ParamStyle) -> bool:
    """True when the schema goes in the system prompt: the server refused the parameter."""
    return params.response_schema is not None and bool(style.dropped & SCHEMA_REFUSALS)


def _schema_parts(
    params: GenerationParams, style: ParamStyle
) -> tuple[str | None, dict[str, Any] | None]:
    """(system prompt, schema for the request parameter); the schema in the prompt instead
    when the server refused the parameter."""
    if params.response_schema is None:
        return params.system, None
    schema = json.loads(params.response_schema)
    if schema_fell_back(params, style):
        return fallback_system(params.system, schema), None
    return params.system, schema


def responses_request(
    conversation: Conversation,
    params: GenerationParams,
    model: str,
    style: ParamStyle,
    *,
    images: bool = True,
) -> dict[str, Any]:
    """The keyword arguments of ``responses.create`` for one streamed answer."""
    request: dict[str, Any] = {
        "model": model,
        "input": responses_input(conversation, images=images),
        "max_output_tokens": params.max_tokens,
        "stream": True,
        "store": False,  # the conversation lives here, not on the provider's side
    }
    system, schema = _schema_parts(params, style)
    if system:
        request["instructions"] = system
    if schema is not None:
        request["text"] = responses_text_format(schema)
    if specs := parse_tools(params.tools):
        request["tools"] = responses_tools(specs)
    if style.send_temperature:
        request["temperature"] = params.temperature
    reasoning: dict[str, str] = {}
    if params.reasoning_effort is not None:
        reasoning["effort"] = params.reasoning_effort
    if not style.send_temperature or params.reasoning_effort is not None:
        reasoning["summary"] = "auto"  # summaries are the only reasoning OpenAI shows
    for name in style.dropped:
        if name.startswith("reasoning."):
            reasoning.pop(name.split(".", 1)[1], None)
        elif name == "text.format":
            request.pop("text", None)
        request.pop(name, None)
    if reasoning and "reasoning" not in style.dropped:
        request["reasoning"] = reasoning
    return request


def responses_input(conversation: Conversation, *, images: bool = True) -> list[dict[str, Any]]:
    """The Responses API ``input`` items: messages, and a tool loop's calls and outputs.

    An assistant's tool calls are ``function_call`` items after its text, a tool result a
    ``function_call_output`` item with the call's ``call_id`` (the function calling guide).
    A prompt's files are ``input_*`` parts (PDFs as ``input_file``: the Responses API is
    OpenAI's own).
    """
    items: list[dict[str, Any]] = []
    for m in conversation.messages:
        if m.role == "tool":
            items.append(
                {"type": "function_call_output", "call_id": m.tool_call_id, "output": m.content}
            )
            continue
        if m.content or not m.tool_calls:
            content = responses_content(m, images=images, pdf_files=True)
            items.append({"role": m.role, "content": content})
        items.extend(
            {"type": "function_call", "call_id": c.id, "name": c.name, "arguments": c.arguments}
            for c in m.tool_calls
        )
    return items
