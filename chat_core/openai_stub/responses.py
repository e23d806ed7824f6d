"""``POST /v1/responses`` with ``stream: true``: the Responses API's streaming events.

Event names and payloads follow the API reference ("Responses streaming events"):
``response.created``, ``response.in_progress``; per output item
``response.output_item.added`` / ``.done``; reasoning summaries as
``response.reasoning_summary_part.added``, ``response.reasoning_summary_text.delta``
/ ``.done``, ``response.reasoning_summary_part.done``; text as
``response.content_part.added``, ``response.output_text.delta`` / ``.done``,
``response.content_part.done`` (``response.refusal.delta`` / ``.done`` for a
refusal, ``response.function_call_arguments.delta`` / ``.done`` for a tool call);
then ``response.completed``, ``response.incomplete`` (``max_output_tokens``,
``content_filter``) or ``response.failed``. Each SSE event is named after its
``type`` and numbered by ``sequence_number``. Reasoning is summarised only when
the request asks for ``reasoning.summary``, as OpenAI does. Pure: no I/O.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from chat_core.errors import ValidationError
from chat_core.events import StreamError, ToolCallDelta, Usage
from chat_core.messages import MAX_TOKENS_LIMIT, ChatMessage, Conversation, GenerationParams
from chat_core.openai_stub.dialects import TOOL_NAME, DialectName
from chat_core.openai_stub.request import InvalidRequest
from chat_core.openai_stub.tools import request_tools, responses_item

_FAILURE_CODES = {"rate_limit": "rate_limit_exceeded", "bad_request": "invalid_prompt"}


@dataclass(frozen=True, slots=True)
class ResponsesRequest:
    """A valid Responses request, reduced to what the offline model needs."""

    model: str
    conversation: Conversation
    params: GenerationParams
    summary: bool  # reasoning.summary was asked for


def _text(content: object, param: str) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            str(p.get("text", "")) for p in content if isinstance(p, dict) and "text" in p
        )
    raise InvalidRequest(param, f"Invalid type for '{param}'.", "invalid_type")


def parse_responses_request(body: object) -> ResponsesRequest:
    """Validate a Responses body; raise InvalidRequest as the API would."""
    if not isinstance(body, dict):
        raise InvalidRequest(None, "The request body must be a JSON object.", "invalid_type")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise InvalidRequest(
            "model", "Missing required parameter: 'model'.", "missing_required_parameter"
        )
    if body.get("stream") is not True:
        raise InvalidRequest("stream", "The stub serves streaming responses only (stream: true).")
    raw = body.get("input")
    items = [{"role": "user", "content": raw}] if isinstance(raw, str) else raw
    if not isinstance(items, list) or not items:
        raise InvalidRequest(
            "input", "Missing required parameter: 'input'.", "missing_required_parameter"
        )
    messages: list[ChatMessage] = []
    for i, item in enumerate(items):
        if isinstance(item, dict) and responses_item(item, messages):
            continue
        role = item.get("role") if isinstance(item, dict) else None
        if role in ("user", "assistant"):
            messages.append(ChatMessage(role, _text(item.get("content"), f"input[{i}].content")))
    while messages and messages[-1].role not in ("user", "tool"):
        messages.pop()
    limit = body.get("max_output_tokens")
    if limit is not None and (not isinstance(limit, int) or not 16 <= limit <= MAX_TOKENS_LIMIT):
        raise InvalidRequest("max_output_tokens", "Invalid 'max_output_tokens'.", "invalid_value")
    temperature = body.get("temperature")
    reasoning = body.get("reasoning")
    try:
        conversation = Conversation(tuple(messages))
        params = GenerationParams(
            model=model[:200],
            temperature=1.0 if temperature is None else temperature,
            max_tokens=limit or MAX_TOKENS_LIMIT,
            tools=request_tools(body, responses=True),
        )
    except ValidationError as exc:
        raise InvalidRequest(exc.field or None, exc.message, "invalid_value") from exc
    summary = isinstance(reasoning, dict) and reasoning.get("summary") is not None
    return ResponsesRequest(model, conversation, params, summary)


def _part(refusal: bool, text: str) -> dict[str, Any]:
    if refusal:
        return {"type": "refusal", "refusal": text}
    return {"type": "output_text", "text": text, "annotations": []}


@dataclass
class ResponsesShaper:
    """Turns one plan's events into Responses API stream events."""

    dialect: DialectName
    model: str
    summary: bool
    named = True
    done_marker: bytes | None = None
    id: str = field(default_factory=lambda: "resp_" + secrets.token_hex(12))
    _seq: int = 0
    _items: list[dict[str, Any]] = field(default_factory=list)
    _open: dict[str, Any] | None = None
    _buffer: str = ""

    def _event(self, type_: str, **fields: Any) -> dict[str, Any]:
        event = {"type": type_, "sequence_number": self._seq, **fields}
        self._seq += 1
        return event

    def _response(self, status: str, **extra: Any) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "response",
            "created_at": int(time.time()),
            "status": status,
            "model": self.model,
            "output": list(self._items),
            "error": None,
            "incomplete_details": None,
            "usage": None,
            "parallel_tool_calls": True,
            "tool_choice": "auto",
            "tools": [],
            **extra,
        }

    def start(self) -> list[dict[str, Any]]:
        return [
            self._event("response.created", response=self._response("in_progress")),
            self._event("response.in_progress", response=self._response("in_progress")),
        ]

    def _close(self) -> list[dict[str, Any]]:
        """The closing events of the open output item."""
        item, self._open = self._open, None
        if item is None:
            return []
        text, self._buffer = self._buffer, ""
        index = len(self._items)
        where = {"item_id": item["id"], "output_index": index}
        out: list[dict[str, Any]] = []
        if item["type"] == "reasoning":
            part = {"type": "summary_text", "text": text}
            item["summary"] = [part]
            out += [
                self._event(
                    "response.reasoning_summary_text.done", **where, summary_index=0, text=text
                ),
                self._event(
                    "response.reasoning_summary_part.done", **where, summary_index=0, part=part
                ),
            ]
        elif item["type"] == "function_call":
            item["arguments"], item["status"] = text, "completed"
            out.append(
                self._event("response.function_call_arguments.done", **where, arguments=text)
            )
        else:
            refusal = self.dialect == "refusal"
            part = _part(refusal, text)
            item["content"], item["status"] = [part], "completed"
            done: dict[str, Any] = {"refusal": text} if refusal else {"text": text, "logprobs": []}
            kind = "response.refusal.done" if refusal else "response.output_text.done"
            out += [
                self._event(kind, **where, content_index=0, **done),
                self._event("response.content_part.done", **where, content_index=0, part=part),
            ]
        out.append(self._event("response.output_item.done", output_index=index, item=item))
        self._items.append(item)
        return out

    def _ensure(self, kind: str) -> list[dict[str, Any]]:
        """Open an output item of this kind (closing another one first)."""
        if self._open is not None and self._open["type"] == kind:
            return []
        out = self._close()
        index = len(self._items)
        if kind == "reasoning":
            item: dict[str, Any] = {"id": "rs_" + secrets.token_hex(8), "type": kind, "summary": []}
        elif kind == "function_call":
            item = {
                "id": "fc_" + secrets.token_hex(8),
                "type": kind,
                "call_id": "call_" + secrets.token_hex(8),
                "name": TOOL_NAME,
                "arguments": "",
                "status": "in_progress",
            }
        else:
            item = {
                "id": "msg_" + secrets.token_hex(8),
                "type": "message",
                "status": "in_progress",
                "role": "assistant",
                "content": [],
            }
        self._open = item
        out.append(self._event("response.output_item.added", output_index=index, item=dict(item)))
        where = {"item_id": item["id"], "output_index": index}
        if kind == "reasoning":
            part = {"type": "summary_text", "text": ""}
            out.append(
                self._event(
                    "response.reasoning_summary_part.added", **where, summary_index=0, part=part
                )
            )
        elif kind == "message":
            part = _part(self.dialect == "refusal", "")
            out.append(
                self._event("response.content_part.added", **where, content_index=0, part=part)
            )
        return out

    def reasoning(self, text: str) -> list[dict[str, Any]]:
        if not self.summary:
            return []  # reasoning stays hidden unless a summary was asked for
        out = self._ensure("reasoning")
        self._buffer += text
        where = {
            "item_id": self._open["id"] if self._open else "",
            "output_index": len(self._items),
        }
        out.append(
            self._event(
                "response.reasoning_summary_text.delta", **where, summary_index=0, delta=text
            )
        )
        return out

    def text(self, text: str) -> list[dict[str, Any]]:
        kind = "function_call" if self.dialect == "tool" else "message"
        out = self._ensure(kind)
        self._buffer += text
        where = {
            "item_id": self._open["id"] if self._open else "",
            "output_index": len(self._items),
        }
        if kind == "function_call":
            out.append(self._event("response.function_call_arguments.delta", **where, delta=text))
        elif self.dialect == "refusal":
            out.append(self._event("response.refusal.delta", **where, content_index=0, delta=text))
        else:
            out.append(
                self._event(
                    "response.output_text.delta", **where, content_index=0, delta=text, logprobs=[]
                )
            )
        return out

    def tool_call(self, delta: ToolCallDelta) -> list[dict[str, Any]]:
        """A piece of a planned tool call: a new ``function_call`` item, then argument deltas."""
        out: list[dict[str, Any]] = []
        if delta.id:
            out = self._close()
            item: dict[str, Any] = {
                "id": "fc_" + secrets.token_hex(8),
                "type": "function_call",
                "call_id": delta.id,
                "name": delta.name,
                "arguments": "",
                "status": "in_progress",
            }
            self._open = item
            out.append(
                self._event(
                    "response.output_item.added", output_index=len(self._items), item=dict(item)
                )
            )
        if delta.arguments and self._open is not None and self._open["type"] == "function_call":
            self._buffer += delta.arguments
            where = {"item_id": self._open["id"], "output_index": len(self._items)}
            out.append(
                self._event(
                    "response.function_call_arguments.delta", **where, delta=delta.arguments
                )
            )
        return out

    def error(self, error: StreamError) -> list[dict[str, Any]]:
        failure = {"code": _FAILURE_CODES.get(error.code, "server_error"), "message": error.message}
        out = self._close()
        out.append(self._event("response.failed", response=self._response("failed", error=failure)))
        return out

    def finish(self, reason: str, usage: Usage | None) -> list[dict[str, Any]]:
        out = self._close()
        counts = None
        if usage is not None:
            counts = {
                "input_tokens": usage.prompt_tokens,
                "input_tokens_details": {"cached_tokens": 0},
                "output_tokens": usage.completion_tokens,
                "output_tokens_details": {"reasoning_tokens": usage.reasoning_tokens or 0},
                "total_tokens": usage.prompt_tokens + usage.completion_tokens,
            }
        if reason in ("length", "content_filter"):
            why = {"reason": "max_output_tokens" if reason == "length" else "content_filter"}
            response = self._response("incomplete", incomplete_details=why, usage=counts)
            out.append(self._event("response.incomplete", response=response))
        else:
            out.append(
                self._event(
                    "response.completed", response=self._response("completed", usage=counts)
                )
            )
        return out
