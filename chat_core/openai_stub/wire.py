"""The OpenAI Chat Completions wire shapes the stub sends: pure functions, no I/O.

Shapes follow the API reference (``chat.completion``, ``chat.completion.chunk``,
the ``{"error": {message, type, param, code}}`` body) closely enough for the
official SDK to parse them, and nothing more.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from chat_core.events import Usage

# Directive kind -> (HTTP status, OpenAI error type, OpenAI error code), as the real API sends them.
HTTP_ERRORS: dict[str, tuple[int, str, str | None]] = {
    "auth": (401, "invalid_request_error", "invalid_api_key"),
    "rate_limit": (429, "requests", "rate_limit_exceeded"),
    "server": (500, "server_error", None),
    "bad_request": (400, "invalid_request_error", None),
    "timeout": (408, "timeout", None),
}
# Retry-After for the simulated 429: the SDK prefers the non-standard ``retry-after-ms``,
# so its retry comes after 50 ms instead of a second.
RATE_LIMIT_HEADERS = {"Retry-After": "1", "retry-after-ms": "50"}
SSE_DONE = b"data: [DONE]\n\n"


@dataclass(frozen=True, slots=True)
class CompletionMeta:
    """What every chunk of one completion repeats: its id, creation time and model."""

    model: str
    id: str = field(default_factory=lambda: "chatcmpl-" + secrets.token_hex(12))
    created: int = field(default_factory=lambda: int(time.time()))


def error_body(
    message: str, type_: str, param: str | None = None, code: str | None = None
) -> dict[str, Any]:
    """The OpenAI error object, as sent in a 4xx/5xx body or inside a stream."""
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def sse(payload: dict[str, Any], event: str | None = None) -> bytes:
    """One SSE event with a JSON payload (ASCII-escaped, so no raw line separators)."""
    head = f"event: {event}\n".encode() if event else b""
    return head + b"data: " + json.dumps(payload, separators=(",", ":")).encode() + b"\n\n"


def usage_dict(usage: Usage) -> dict[str, Any]:
    """The ``usage`` object, with ``completion_tokens_details`` when there was reasoning."""
    out: dict[str, Any] = {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.prompt_tokens + usage.completion_tokens,
    }
    if usage.reasoning_tokens is not None:
        out["completion_tokens_details"] = {"reasoning_tokens": usage.reasoning_tokens}
    return out


def chunk(
    meta: CompletionMeta,
    delta: dict[str, Any],
    finish_reason: str | None = None,
    *,
    include_usage: bool = False,
) -> dict[str, Any]:
    """A ``chat.completion.chunk`` with one choice."""
    out: dict[str, Any] = {
        "id": meta.id,
        "object": "chat.completion.chunk",
        "created": meta.created,
        "model": meta.model,
        "system_fingerprint": None,
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}],
    }
    if include_usage:  # with include_usage every chunk carries "usage": null but the last
        out["usage"] = None
    return out


def usage_chunk(meta: CompletionMeta, usage: Usage) -> dict[str, Any]:
    """The final chunk ``stream_options.include_usage`` asks for: no choices, only usage."""
    return {
        "id": meta.id,
        "object": "chat.completion.chunk",
        "created": meta.created,
        "model": meta.model,
        "system_fingerprint": None,
        "choices": [],
        "usage": usage_dict(usage),
    }


def completion(meta: CompletionMeta, text: str, finish_reason: str, usage: Usage) -> dict[str, Any]:
    """A whole ``chat.completion`` object (the ``stream: false`` answer)."""
    return {
        "id": meta.id,
        "object": "chat.completion",
        "created": meta.created,
        "model": meta.model,
        "system_fingerprint": None,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text, "refusal": None},
                "logprobs": None,
                "finish_reason": finish_reason,
            }
        ],
        "usage": usage_dict(usage),
    }


def model_list(model_ids: list[str]) -> dict[str, Any]:
    """The ``GET /v1/models`` list object."""
    return {
        "object": "list",
        "data": [
            {"id": m, "object": "model", "created": 0, "owned_by": "chat_core"} for m in model_ids
        ],
    }
