"""Stub dialects: one real provider's Chat Completions stream shape each, chosen by model name.

The first keyword found in the requested model name picks the dialect:

    keyword                            shape (as the provider's API reference shows it)
    strict, o1/o3/o4..., gpt-5...      OpenAI reasoning model: 400 to max_tokens and to a
                                       temperature other than 1; reasoning hidden
    magistral                          Mistral: content as typed parts, thinking then text
    deepseek, qwen, grok               DeepSeek / Alibaba / xAI: delta.reasoning_content
    groq, openrouter, gpt-oss          Groq (reasoning_format=parsed) / OpenRouter: delta.reasoning
    think                              no reasoning parser: <think>...</think> in content
    refus                              delta.refusal instead of content
    noschema                           (any shape) 400 to response_format: no structured output
    tool                               a tool call (delta.tool_calls), finish tool_calls
    ollama                             Ollama: each tool call whole in one chunk, every call
                                       of a batch at index 0 (told apart by id), finish stop
    filter, azure                      Azure OpenAI: empty-choices first chunk with
                                       prompt_filter_results, finish content_filter
    sonar, perplexity                  Perplexity: usage in every chunk
    (anything else)                    OpenAI: content only, usage in a last chunk

Dialects that reason do so for a moment on every prompt (``/think S`` sets how
long). Pure: payload dicts in, payload dicts out; ``stream`` does the I/O.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Literal

from chat_core.backends.offline import Plan, tokenize
from chat_core.events import Done, ReasoningDelta, StreamError, TextDelta, ToolCallDelta, Usage
from chat_core.openai_stub.wire import (
    HTTP_ERRORS,
    SSE_DONE,
    CompletionMeta,
    chunk,
    error_body,
    usage_chunk,
    usage_dict,
)

DialectName = Literal[
    "openai", "strict", "magistral", "reasoning_content", "reasoning", "think", "refusal",
    "tool", "filter", "usage_every_chunk", "ollama",
]  # fmt: skip
_KEYWORDS: tuple[tuple[str, DialectName], ...] = (
    (r"strict|^o\d|^gpt-5", "strict"),
    (r"magistral", "magistral"),
    (r"deepseek|qwen|grok", "reasoning_content"),
    (r"groq|openrouter|gpt-oss", "reasoning"),
    (r"think", "think"),
    (r"refus", "refusal"),
    (r"ollama", "ollama"),  # before "tool": "ollama-tools" is Ollama's shape
    (r"tool", "tool"),
    (r"filter|azure", "filter"),
    (r"sonar|perplexity", "usage_every_chunk"),
)
REASONING_DIALECTS = frozenset(("strict", "magistral", "reasoning_content", "reasoning", "think"))
DEFAULT_THINK_S = 0.25
REFUSAL = "I'm sorry, but I can't help with that request."
TOOL_NAME = "get_weather"
TOOL_ARGUMENTS = '{"location": "Paris", "unit": "celsius"}'
FILTERED_AFTER_TOKENS = 6
_SAFE = {"filtered": False, "severity": "safe"}
_CATEGORIES = ("hate", "self_harm", "sexual", "violence")


def dialect_for(model: str) -> DialectName:
    """The dialect a model name asks for."""
    lowered = model.lower()
    return next((name for pattern, name in _KEYWORDS if re.search(pattern, lowered)), "openai")


def think_seconds(dialect: DialectName) -> float:
    """How long a dialect reasons when the prompt does not say (``/think``)."""
    return DEFAULT_THINK_S if dialect in REASONING_DIALECTS else 0.0


def reshape(dialect: DialectName, plan: Plan) -> Plan:
    """The plan's timing with the dialect's content: a refusal, tool arguments, a filter cut."""
    if dialect not in ("refusal", "tool", "filter"):
        return plan
    times = [t for t, e in plan if isinstance(e, TextDelta)]
    end = next((t for t, e in plan if not isinstance(e, TextDelta | ReasoningDelta)), 0.0)
    rest: Plan = [(t, e) for t, e in plan if not isinstance(e, TextDelta)]
    tail: Plan
    if dialect == "filter":  # the filter stops the answer a few tokens in
        kept: Plan = [(t, e) for t, e in plan if isinstance(e, TextDelta)]
        kept = kept[:FILTERED_AFTER_TOKENS]
        cut = kept[-1][0] if kept else end
        tail = [
            (t, e) if isinstance(e, ReasoningDelta) else (min(t, cut), e)
            for t, e in rest
            if not isinstance(e, StreamError)  # the filter ends it before any failure
        ]
        tail = [(t, Done("content_filter") if isinstance(e, Done) else e) for t, e in tail]
        return sorted(kept + tail, key=lambda pair: pair[0])
    pieces = tokenize(REFUSAL) if dialect == "refusal" else re.findall(r".{1,6}", TOOL_ARGUMENTS)
    step = (times[1] - times[0]) if len(times) > 1 else 0.0
    start = times[0] if times else end
    text: Plan = [(start + i * step, TextDelta(p)) for i, p in enumerate(pieces)]
    last = text[-1][0] if text else end
    tail = [(max(t, last), e) for t, e in rest if not isinstance(e, ReasoningDelta)]
    if dialect == "tool":
        tail = [(t, Done("tool_calls") if isinstance(e, Done) else e) for t, e in tail]
    thoughts: Plan = [(t, e) for t, e in rest if isinstance(e, ReasoningDelta)]
    return thoughts + text + tail


@dataclass
class Shaper:
    """Turns one plan's events into the dialect's chunk payloads."""

    dialect: DialectName
    meta: CompletionMeta
    include_usage: bool
    prompt_tokens: int = 0
    _reasoned: bool = False
    _answered: bool = False
    _completion_tokens: int = 0
    _pending: dict[str, Any] | None = None  # Ollama: the call being gathered whole

    def _chunk(self, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        out = chunk(meta=self.meta, delta=delta, finish_reason=finish)
        if self.include_usage or self.dialect == "usage_every_chunk":
            out["usage"] = None
        if self.dialect == "usage_every_chunk":
            out["object"] = "chat.completion"  # as Perplexity sends it
            out["citations"] = []
            out["usage"] = usage_dict(Usage(self.prompt_tokens, self._completion_tokens))
        if self.dialect == "filter":
            out["choices"][0]["content_filter_results"] = {c: _SAFE for c in _CATEGORIES}
        return out

    def start(self) -> list[dict[str, Any]]:
        """The chunks before the first token."""
        first: list[dict[str, Any]] = []
        if self.dialect == "filter":  # Azure: the prompt's filter verdict comes first
            results = {c: _SAFE for c in _CATEGORIES}
            first.append(
                {
                    "choices": [],
                    "created": 0,
                    "id": "",
                    "model": "",
                    "object": "",
                    "prompt_filter_results": [
                        {"prompt_index": 0, "content_filter_results": results}
                    ],
                }
            )
        role: dict[str, Any] = {"role": "assistant", "content": ""}
        if self.dialect == "refusal":
            role = {"role": "assistant", "content": None, "refusal": None}
        return [*first, self._chunk(role)]

    def reasoning(self, text: str) -> list[dict[str, Any]]:
        """The chunks of one reasoning token."""
        self._completion_tokens += 1
        first, self._reasoned = not self._reasoned, True
        if self.dialect == "reasoning_content":
            return [self._chunk({"content": None, "reasoning_content": text})]
        if self.dialect == "reasoning":
            return [self._chunk({"reasoning": text})]
        if self.dialect == "magistral":
            part = {"type": "thinking", "thinking": [{"type": "text", "text": text}]}
            return [self._chunk({"content": [part]})]
        if self.dialect == "think":  # the open tag split across two chunks, on purpose
            opening = [self._chunk({"content": "<thi"}), self._chunk({"content": "nk>\n"})]
            return [*(opening if first else []), self._chunk({"content": text})]
        return []  # OpenAI's Chat Completions never shows reasoning

    def text(self, text: str) -> list[dict[str, Any]]:
        """The chunks of one answer token."""
        self._completion_tokens += 1
        first, self._answered = not self._answered, True
        if self.dialect == "think" and first and self._reasoned:
            closing = [self._chunk({"content": "\n</th"}), self._chunk({"content": "ink>\n\n"})]
            return [*closing, self._chunk({"content": text})]
        if self.dialect == "magistral":
            return [self._chunk({"content": [{"type": "text", "text": text}]})]
        if self.dialect == "refusal":
            return [self._chunk({"refusal": text})]
        if self.dialect == "tool":
            call: dict[str, Any] = {"index": 0, "function": {"arguments": text}}
            if first:
                call = {
                    "index": 0,
                    "id": "call_" + self.meta.id[-12:],
                    "type": "function",
                    "function": {"name": TOOL_NAME, "arguments": text},
                }
            return [
                self._chunk(
                    {"content": None, "tool_calls": [call]} if first else {"tool_calls": [call]}
                )
            ]
        return [self._chunk({"content": text})]

    def tool_call(self, delta: ToolCallDelta) -> list[dict[str, Any]]:
        """The chunks of one piece of a tool call the offline model planned."""
        self._completion_tokens += 1
        if self.dialect == "ollama":
            out = self._flush_call() if delta.id else []
            if delta.id:
                function = {"name": delta.name, "arguments": ""}
                self._pending = {
                    "index": 0,
                    "id": delta.id,
                    "type": "function",
                    "function": function,
                }
            if self._pending is not None:
                self._pending["function"]["arguments"] += delta.arguments
            return out
        call: dict[str, Any] = {"index": delta.index, "function": {"arguments": delta.arguments}}
        if delta.id:
            function = {"name": delta.name, "arguments": delta.arguments}
            call = {"index": delta.index, "id": delta.id, "type": "function", "function": function}
        first, self._answered = not self._answered, True
        return [
            self._chunk(
                {"content": None, "tool_calls": [call]} if first else {"tool_calls": [call]}
            )
        ]

    def _flush_call(self) -> list[dict[str, Any]]:
        call, self._pending = self._pending, None
        return [self._chunk({"content": None, "tool_calls": [call]})] if call else []

    named = False  # chunks are unnamed SSE events
    done_marker: bytes | None = SSE_DONE

    def error(self, error: StreamError) -> list[dict[str, Any]]:
        """The in-stream error object, which the SDK raises as ``APIError``."""
        _, type_, code = HTTP_ERRORS.get(error.code, (500, "server_error", None))
        return [error_body(error.message, type_, None, code or error.code)]

    def finish(self, reason: str, usage: Usage | None) -> list[dict[str, Any]]:
        """The last chunks: the finish reason, then usage when asked for (or always)."""
        annotations: list[dict[str, Any]] = []
        if self.dialect == "filter":
            # Azure's asynchronous filter annotates what it checked in a choice with no delta.
            choice = {
                "index": 0,
                "finish_reason": None,
                "content_filter_results": {c: _SAFE for c in _CATEGORIES},
                "content_filter_offsets": {"check_offset": 0, "start_offset": 0, "end_offset": 40},
            }
            annotations.append(
                {"id": "", "object": "", "created": 0, "model": "", "choices": [choice]}
            )
        annotations += self._flush_call()
        if self.dialect == "ollama" and reason == "tool_calls":
            reason = "stop"  # as some Ollama versions end a tool call
        last = self._chunk({}, reason)
        if self.dialect == "filter" and reason == "content_filter":
            verdict = {c: _SAFE for c in _CATEGORIES}
            verdict["violence"] = {"filtered": True, "severity": "medium"}
            last["choices"][0]["content_filter_results"] = verdict
        if self.dialect == "usage_every_chunk" and usage is not None:
            last["usage"] = usage_dict(usage)
            return [last]
        out = [*annotations, last]
        if self.include_usage and usage is not None:
            out.append(usage_chunk(self.meta, usage))
        return out


def strict_refusal(body: dict[str, Any], *, responses: bool = False) -> tuple[str, str, str] | None:
    """The (message, param, code) OpenAI's reasoning models refuse this body with, if any."""
    if not responses and body.get("max_tokens") is not None:
        return (
            "Unsupported parameter: 'max_tokens' is not supported with this model. "
            "Use 'max_completion_tokens' instead.",
            "max_tokens",
            "unsupported_parameter",
        )
    temperature = body.get("temperature")
    if temperature is None or temperature == 1:
        return None
    if responses:
        message = "Unsupported parameter: 'temperature' is not supported with this model."
        return message, "temperature", "unsupported_parameter"
    return (
        f"Unsupported value: 'temperature' does not support {json.dumps(temperature)} with "
        "this model. Only the default (1) value is supported.",
        "temperature",
        "unsupported_value",
    )
