"""Chat Completions stream chunks -> events, for every provider's shape of them.

One ``ChatChunkReader`` per answer: ``read(chunk)`` returns the events a chunk
completes, ``end()`` the closing ``Usage`` and ``Done``. Chunks are the SDK's
objects (unknown fields kept as attributes) or plain dicts; the shapes are:

- OpenAI: ``delta.content``; ``delta.refusal``; ``delta.tool_calls`` (``index``, then
  ``id`` and ``function.name`` with a call's first piece, ``function.arguments`` pieces:
  each becomes a ``ToolCallDelta``; Ollama-like servers reuse index 0 with new ids); usage in a
  last chunk with empty ``choices`` (``stream_options.include_usage``), with
  ``completion_tokens_details.reasoning_tokens``.
- DeepSeek, xAI, Alibaba Qwen (and DeepSeek on Azure): ``delta.reasoning_content``.
- Groq (``reasoning_format=parsed``), OpenRouter, newer vLLM: ``delta.reasoning``.
- Mistral Magistral: ``delta.content`` as typed parts, ``{"type": "thinking",
  "thinking": [{"type": "text", "text": ...}]}`` and ``{"type": "text", "text": ...}``.
- Servers without a reasoning parser: ``<think>...</think>`` at the start of content.
- Azure OpenAI: a first chunk with empty ``choices`` and ``prompt_filter_results``,
  choices without a ``delta`` (filter annotations), ``finish_reason="content_filter"``.
- Perplexity: ``usage`` in every chunk (the last one wins: one Usage per answer).
Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chat_core.backends.think_tags import ThinkTagSplitter
from chat_core.events import (
    Done,
    FinishReason,
    ReasoningDelta,
    StreamEvent,
    TextDelta,
    ToolCallDelta,
    Usage,
)
from chat_core.tools.calls import ToolCallAccumulator

_FINISHES: dict[str, FinishReason] = {
    "length": "length",
    "content_filter": "content_filter",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",  # the deprecated form of a tool call
}
_REASONING_FIELDS = ("reasoning_content", "reasoning")


def field(obj: object, name: str) -> Any:
    """An attribute of an SDK object or a key of a dict; None when absent."""
    if isinstance(obj, Mapping):
        return obj.get(name)
    return getattr(obj, name, None)


def read_usage(usage: object) -> Usage | None:
    """A Usage from a chat ``usage`` object; None when its counts are missing."""
    prompt, completion = field(usage, "prompt_tokens"), field(usage, "completion_tokens")
    if not isinstance(prompt, int) or not isinstance(completion, int):
        return None
    reasoning = field(field(usage, "completion_tokens_details"), "reasoning_tokens")
    return Usage(prompt, completion, reasoning if isinstance(reasoning, int) else None)


def finish_reason(reason: object) -> FinishReason:
    """The provider's finish reason, kept when it means something to the user."""
    return _FINISHES.get(reason, "stop") if isinstance(reason, str) else "stop"


def tool_call_delta(call: object) -> ToolCallDelta:
    """The ``ToolCallDelta`` of one ``delta.tool_calls`` entry (missing fields empty)."""
    function = field(call, "function")
    index, id_ = field(call, "index"), field(call, "id")
    name, arguments = field(function, "name"), field(function, "arguments")

    def text(value: object) -> str:
        return value if isinstance(value, str) else ""

    return ToolCallDelta(
        index if isinstance(index, int) and not isinstance(index, bool) else 0,
        text(id_),
        text(name),
        text(arguments),
    )


class ChatChunkReader:
    """Reads one answer's chunks; keeps what only the end can tell (usage, finish)."""

    def __init__(self) -> None:
        self._think = ThinkTagSplitter()
        self._usage: Usage | None = None
        self._finish: str | None = None
        self._refused = False
        self._calls = ToolCallAccumulator()

    def read(self, chunk: object) -> list[StreamEvent]:
        """The events of one chunk."""
        out: list[StreamEvent] = []
        usage = field(chunk, "usage")
        if usage is not None:
            self._usage = read_usage(usage) or self._usage
        for choice in field(chunk, "choices") or ():
            if field(choice, "index") not in (None, 0):
                continue  # only the first choice is the answer (n=1)
            delta = field(choice, "delta")  # Azure's filter annotations carry none
            if delta is not None:
                self._delta(delta, out)
            reason = field(choice, "finish_reason")
            if reason:
                self._finish = reason
        return out

    def _delta(self, delta: object, out: list[StreamEvent]) -> None:
        for name in _REASONING_FIELDS:  # the first one present: some servers send both
            reasoning = field(delta, name)
            if isinstance(reasoning, str) and reasoning:
                out.append(ReasoningDelta(reasoning))
                break
        content = field(delta, "content")
        if isinstance(content, str) and content:
            self._text(content, out)
        elif isinstance(content, list):
            self._parts(content, out)
        refusal = field(delta, "refusal")
        if isinstance(refusal, str) and refusal:
            self._refused = True
            out.append(TextDelta(refusal))
        for call in field(delta, "tool_calls") or ():
            piece = tool_call_delta(call)
            self._calls.feed(piece)
            out.append(piece)

    def _text(self, content: str, out: list[StreamEvent]) -> None:
        reasoning, answer = self._think.feed(content)
        if reasoning:
            out.append(ReasoningDelta(reasoning))
        if answer:
            out.append(TextDelta(answer))

    def _parts(self, parts: list[object], out: list[StreamEvent]) -> None:
        for part in parts:
            kind = field(part, "type")
            if kind == "thinking":
                thinking = field(part, "thinking")
                pieces = thinking if isinstance(thinking, list) else [{"text": thinking}]
                text = "".join(t for p in pieces if isinstance(t := field(p, "text"), str))
                if text:
                    out.append(ReasoningDelta(text))
            elif kind == "text" and isinstance(text := field(part, "text"), str) and text:
                self._text(text, out)

    def end(self) -> list[StreamEvent]:
        """The last events once the stream has ended well: held text, usage, Done."""
        out: list[StreamEvent] = []
        reasoning, answer = self._think.flush()
        if reasoning:
            out.append(ReasoningDelta(reasoning))
        if answer:
            out.append(TextDelta(answer))
        if self._usage is not None:
            out.append(self._usage)
        tools = tuple(c.name for c in self._calls.calls)
        reason = finish_reason(self._finish)
        if tools and reason == "stop":
            reason = "tool_calls"  # some servers end a tool call with "stop"
        out.append(Done(reason, refused=self._refused, tool_names=tools))
        return out
