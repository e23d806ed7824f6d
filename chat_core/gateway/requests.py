"""Turning a stream request (JSON body or seed-style query) into a validated conversation.

Everything is checked here, before any back end is called. Failures raise
``ValidationError`` (422) or ``LimitError`` (413) naming the offending field;
the app turns them into JSON error bodies.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from chat_core.attachments import DEFAULT_LIMITS, AttachmentLimits, read_wire
from chat_core.errors import LimitError, ValidationError
from chat_core.messages import Conversation, GenerationParams, build_conversation
from chat_core.tools.definitions import dump_tools, parse_tools

BODY_FIELDS = (
    "message",
    "history",
    "model",
    "temperature",
    "max_tokens",
    "system",
    "attachments",
    "tools",
)
# A valid body nests three deep (body, history, message); json.loads recurses once per level
# and raises RecursionError near 1,000, which used to escape as a plain-text 500.
MAX_JSON_DEPTH = 32
_BRACKETS = re.compile(r"[\[\]{}]")


@dataclass(frozen=True, slots=True)
class ChatRequest:
    """A validated request: what to send the back end and how."""

    conversation: Conversation
    params: GenerationParams


async def read_body(chunks: AsyncIterable[bytes], content_length: str | None, limit: int) -> bytes:
    """The request body, refused (413) as soon as it is over ``limit`` bytes."""
    if content_length is not None and content_length.isdigit() and int(content_length) > limit:
        raise LimitError("body", f"the request body is over {limit} bytes")
    parts: list[bytes] = []
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise LimitError("body", f"the request body is over {limit} bytes")
        parts.append(chunk)
    return b"".join(parts)


def _optional_str(value: object, name: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise ValidationError(name, f"{name} must be a string")


def _params(values: Mapping[str, Any]) -> GenerationParams:
    defaults = GenerationParams()
    return GenerationParams(
        model=_optional_str(values.get("model"), "model") or None,
        temperature=values.get("temperature", defaults.temperature),
        max_tokens=values.get("max_tokens", defaults.max_tokens),
        system=_optional_str(values.get("system"), "system") or None,
        tools=_tools(values.get("tools")),
    )


def _tools(value: object) -> str | None:
    """Tool definitions (a list of ``{name, description, parameters}``), checked."""
    if value is None:
        return None
    if isinstance(value, str):  # the GET form carries them as JSON text
        text = value
    elif isinstance(value, list):
        text = json.dumps(value)
    else:
        raise ValidationError("tools", "tools must be a list of tool definitions")
    return dump_tools(parse_tools(text))


def check_nesting(text: str, name: str, limit: int = MAX_JSON_DEPTH) -> None:
    """ValidationError naming ``name`` when JSON ``text`` nests deeper than ``limit``.

    A flat scan, run before ``json.loads`` so that no depth of input reaches its
    recursion: escaped backslashes and quotes are dropped, then every other piece
    between quotes is outside a string, and only its brackets count. A few ms for a
    2 MB body; a body of ``[`` stops at the limit.
    """
    if text.count("[") + text.count("{") <= limit:
        return
    outside = text.replace("\\\\", "").replace('\\"', "").split('"')[::2]
    depth = 0
    for piece in outside:
        for bracket in _BRACKETS.finditer(piece):
            if bracket.group() in "[{":
                depth += 1
                if depth > limit:
                    raise ValidationError(name, f"{name} is nested more than {limit} deep")
            else:
                depth -= 1


def parse_body(raw: bytes, limits: AttachmentLimits = DEFAULT_LIMITS) -> ChatRequest:
    """Validate a ``POST /api/chat/stream`` body (its files checked and cleaned, as the app
    does: 422 or 413 naming ``attachments[i].data``)."""
    try:
        text = raw.decode()
    except UnicodeDecodeError as exc:
        raise ValidationError("body", "the body is not valid JSON") from exc
    check_nesting(text, "body")
    try:
        body = json.loads(text)
    except ValueError as exc:
        raise ValidationError("body", "the body is not valid JSON") from exc
    if not isinstance(body, dict):
        raise ValidationError("body", "the body must be a JSON object")
    unknown = sorted(set(body) - set(BODY_FIELDS))
    if unknown:
        raise ValidationError(unknown[0][:80], f"unknown field {unknown[0][:80]!r}")
    if "message" not in body and not _ends_with_tool_results(body.get("history")):
        raise ValidationError("message", "message is required")
    history = body.get("history")
    files = read_wire(body.get("attachments"), limits)
    conversation = build_conversation(
        body.get("message"), [] if history is None else history, files
    )
    return ChatRequest(conversation, _params(body))


def _ends_with_tool_results(history: object) -> bool:
    # A tool loop's next step: no new prompt, the model goes on from the results.
    return (
        isinstance(history, list)
        and bool(history)
        and isinstance(history[-1], dict)
        and history[-1].get("role") == "tool"
    )


def _number(raw: str | None, name: str, kind: type[int] | type[float]) -> int | float | None:
    if raw is None or raw == "":
        return None
    try:
        return kind(raw)
    except ValueError as exc:
        noun = "an integer" if kind is int else "a number"
        raise ValidationError(name, f"{name} must be {noun}") from exc


def parse_query(query: Mapping[str, str]) -> ChatRequest:
    """Validate seed-style ``GET /api/chat/stream?message=&history=<json>`` parameters."""
    message = query.get("message")
    raw_history = query.get("history") or "[]"
    check_nesting(raw_history, "history")
    try:
        history = json.loads(raw_history)
    except ValueError as exc:
        raise ValidationError("history", "history is not valid JSON") from exc
    if message is None and not _ends_with_tool_results(history):
        raise ValidationError("message", "message is required")
    conversation = build_conversation(message, history)
    values: dict[str, Any] = {"model": query.get("model"), "system": query.get("system")}
    values["tools"] = query.get("tools")
    temperature = _number(query.get("temperature"), "temperature", float)
    max_tokens = _number(query.get("max_tokens"), "max_tokens", int)
    if temperature is not None:
        values["temperature"] = temperature
    if max_tokens is not None:
        values["max_tokens"] = max_tokens
    return ChatRequest(conversation, _params(values))


def enforce_policy(
    chat: ChatRequest, models: tuple[str, ...], max_tokens: int | None
) -> ChatRequest:
    """The gateway's own limits: an allowed model (422 naming ``model``), ``max_tokens`` capped."""
    params = chat.params
    if models and params.model is not None and params.model not in models:
        raise ValidationError("model", f"model must be one of: {', '.join(models)}")
    if max_tokens is not None and params.max_tokens > max_tokens:
        params = replace(params, max_tokens=max_tokens)  # a cap, not a refusal: clients ask high
    return ChatRequest(chat.conversation, params)


# The POST body, for the OpenAPI docs (validation itself is above, in one place).
BODY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "message": {
            "type": "string",
            "description": "the user's prompt (may be empty with files; left out when history "
            "ends with tool results)",
        },
        "attachments": {
            "type": "array",
            "description": "files: images, PDF, text; base64 data, checked and cleaned here",
            "items": {
                "type": "object",
                "required": ["name", "mime", "data"],
                "additionalProperties": False,
                "properties": {
                    "name": {"type": "string"},
                    "mime": {"type": "string"},
                    "data": {"type": "string", "contentEncoding": "base64"},
                },
            },
        },
        "history": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["role", "content"],
                "additionalProperties": False,
                "properties": {
                    "role": {"enum": ["system", "user", "assistant", "tool"]},
                    "content": {"type": "string"},
                    "tool_calls": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["id", "name", "arguments"],
                            "properties": {
                                "id": {"type": "string"},
                                "name": {"type": "string"},
                                "arguments": {"type": "string"},
                            },
                        },
                    },
                    "tool_call_id": {"type": "string"},
                },
            },
        },
        "tools": {
            "type": "array",
            "description": "functions the model may call: {name, description, parameters}",
            "items": {
                "type": "object",
                "required": ["name"],
                "properties": {
                    "name": {"type": "string"},
                    "description": {"type": "string"},
                    "parameters": {"type": "object"},
                },
            },
        },
        "model": {"type": "string"},
        "temperature": {"type": "number", "minimum": 0, "maximum": 2},
        "max_tokens": {"type": "integer", "minimum": 1},
        "system": {"type": "string"},
    },
}
