"""Validating a Chat Completions request body the way the OpenAI API does.

A bad body is refused with a 400 whose ``param`` and ``code`` name what was
wrong, as the real API would, so clients see realistic errors. Arguments the
offline model cannot use (logprobs, ...) are accepted and ignored; function tools
reach the offline model, which calls them (``chat_core.backends.offline_tools``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from chat_core.backends.json_output import requested_schema
from chat_core.errors import LimitError, ValidationError
from chat_core.messages import MAX_TOKENS_LIMIT, ChatMessage, Conversation, GenerationParams
from chat_core.openai_stub.tools import chat_tool_calls, request_tools

ROLES = ("system", "developer", "user", "assistant", "tool", "function")
# Every argument of the Chat Completions API; the offline model ignores those it cannot use.
KNOWN_ARGUMENTS = frozenset(
    (
        *("model", "messages", "stream", "stream_options", "n", "user", "seed", "store"),
        *("max_tokens", "max_completion_tokens", "temperature", "top_p", "stop", "logit_bias"),
        *("presence_penalty", "frequency_penalty", "logprobs", "top_logprobs", "metadata"),
        *("tools", "tool_choice", "parallel_tool_calls", "functions", "function_call"),
        *("response_format", "service_tier", "modalities", "audio", "prediction", "verbosity"),
        *("reasoning_effort", "web_search_options", "safety_identifier", "prompt_cache_key"),
        "prompt_cache_retention",
    )
)


class InvalidRequest(ValidationError):
    """A body the OpenAI API would refuse with 400; ``code`` is its error code."""

    def __init__(
        self, param: str | None, message: str, code: str | None = None, *, status: int = 400
    ) -> None:
        super().__init__(param or "", message)
        self.param = param
        self.code = code
        self.status = status


@dataclass(frozen=True, slots=True)
class CompletionRequest:
    """A valid request, reduced to what the offline model needs."""

    model: str
    conversation: Conversation
    params: GenerationParams
    stream: bool
    include_usage: bool


def _type_name(value: object) -> str:
    names = {bool: "a boolean", int: "an integer", float: "a decimal", str: "a string"}
    names.update({list: "an array", dict: "an object", type(None): "null"})
    return names.get(type(value), "an unknown type")


def _wrong_type(param: str, expected: str, value: object) -> InvalidRequest:
    return InvalidRequest(
        param,
        f"Invalid type for '{param}': expected {expected}, but got {_type_name(value)} instead.",
        "invalid_type",
    )


def _number(body: dict[str, Any], name: str, low: float, high: float) -> float | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _wrong_type(name, "a decimal", value)
    if value < low:
        raise InvalidRequest(
            name,
            f"Invalid '{name}': decimal below minimum value. "
            f"Expected a value >= {low:g}, but got {value} instead.",
            "decimal_below_min_value",
        )
    if value > high:
        raise InvalidRequest(
            name,
            f"Invalid '{name}': decimal above maximum value. "
            f"Expected a value <= {high:g}, but got {value} instead.",
            "decimal_above_max_value",
        )
    return float(value)


def _integer(body: dict[str, Any], name: str) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise _wrong_type(name, "an integer", value)
    if value < 1:
        raise InvalidRequest(
            name,
            f"Invalid '{name}': integer below minimum value. "
            f"Expected a value >= 1, but got {value} instead.",
            "integer_below_min_value",
        )
    return value


def _content(item: dict[str, Any], param: str) -> str:
    content = item.get("content")
    if content is None and item.get("role") != "user":
        return ""  # an assistant turn that only called tools
    if isinstance(content, str):
        return content
    if isinstance(content, list) and all(isinstance(p, dict) for p in content):
        # Only text parts mean anything to the offline model; images and audio are skipped.
        return "\n".join(str(p.get("text", "")) for p in content if p.get("type") == "text")
    raise _wrong_type(param, "one of a string or array of objects", content)


def _messages(body: dict[str, Any]) -> list[ChatMessage]:
    items = body.get("messages")
    if items is None:
        raise InvalidRequest(
            "messages", "Missing required parameter: 'messages'.", "missing_required_parameter"
        )
    if not isinstance(items, list):
        raise _wrong_type("messages", "an array", items)
    if not items:
        raise InvalidRequest(
            "messages",
            "Invalid 'messages': empty array. Expected an array with minimum length 1, "
            "but got an empty array instead.",
            "empty_array",
        )
    out: list[ChatMessage] = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise _wrong_type(f"messages[{i}]", "an object", item)
        role = item.get("role")
        if role not in ROLES:
            supported = ", ".join(f"'{r}'" for r in ROLES)
            raise InvalidRequest(
                f"messages[{i}].role",
                f"Invalid value: {role!r}. Supported values are: {supported}.",
                "invalid_value",
            )
        text = _content(item, f"messages[{i}].content")
        # System turns do not change the scripted answer; the model sees the dialogue,
        # with a tool loop's calls and results.
        if role in ("user", "assistant"):
            out.append(ChatMessage(role, text, tool_calls=chat_tool_calls(item.get("tool_calls"))))
        elif role == "tool":
            out.append(ChatMessage("tool", text, tool_call_id=str(item.get("tool_call_id", ""))))
    if not any(m.role == "user" for m in out):
        raise InvalidRequest("messages", "The offline model needs at least one user message.")
    last = max(i for i, m in enumerate(out) if m.role in ("user", "tool"))
    return out[: last + 1]


def parse_request(body: object) -> CompletionRequest:
    """Validate a decoded JSON body; raise InvalidRequest as the OpenAI API would."""
    if not isinstance(body, dict):
        raise InvalidRequest(None, "The request body must be a JSON object.", "invalid_type")
    unknown = sorted(set(body) - KNOWN_ARGUMENTS)
    if unknown:
        raise InvalidRequest(None, f"Unrecognized request argument supplied: {unknown[0]}")
    model = body.get("model")
    if model is None:
        raise InvalidRequest(None, "you must provide a model parameter")
    if not isinstance(model, str) or not model:
        raise _wrong_type("model", "a non-empty string", model)
    messages = _messages(body)
    stream = body.get("stream")
    if stream is not None and not isinstance(stream, bool):
        raise _wrong_type("stream", "a boolean", stream)
    options = body.get("stream_options")
    if options is not None and not stream:
        raise InvalidRequest(
            "stream_options",
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
            "invalid_value",
        )
    if options is not None and not isinstance(options, dict):
        raise _wrong_type("stream_options", "an object", options)
    include_usage = bool(options and options.get("include_usage"))
    temperature = _number(body, "temperature", 0.0, 2.0)
    _number(body, "top_p", 0.0, 1.0)
    n = _integer(body, "n")
    if n not in (None, 1):
        raise InvalidRequest("n", "The offline model only answers with n=1.", "invalid_value")
    max_tokens = _integer(body, "max_completion_tokens") or _integer(body, "max_tokens")
    if max_tokens is not None and max_tokens > MAX_TOKENS_LIMIT:
        raise InvalidRequest(
            "max_tokens",
            f"max_tokens is too large: {max_tokens}. This model supports at most "
            f"{MAX_TOKENS_LIMIT} completion tokens.",
            "invalid_value",
        )
    try:
        conversation = Conversation(tuple(messages))
    except ValidationError as exc:  # over the conversation limits
        code = "context_length_exceeded" if isinstance(exc, LimitError) else "invalid_value"
        raise InvalidRequest("messages", exc.message, code) from exc
    schema = requested_schema(body)  # the offline model answers JSON matching it
    try:
        tools = request_tools(body)
    except ValidationError as exc:
        raise InvalidRequest(exc.field, exc.message, "invalid_value") from exc
    params = GenerationParams(
        model=model[:200],
        temperature=1.0 if temperature is None else temperature,
        max_tokens=max_tokens or MAX_TOKENS_LIMIT,
        response_schema=json.dumps(schema) if schema is not None else None,
        tools=tools,
    )
    return CompletionRequest(model, conversation, params, bool(stream), include_usage)
