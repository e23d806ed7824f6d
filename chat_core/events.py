"""Typed stream events: what every back end yields, whatever its wire format.

A stream is zero or more ``ReasoningDelta``, ``TextDelta``, ``ToolCallDelta`` and
``Usage`` events,
at most one ``StreamError``, and exactly one ``Done`` at the end. Text is never
mixed with errors or reasoning: an error is a ``StreamError`` event, never
"Error: ..." in the answer, and a model's reasoning is a ``ReasoningDelta``, never
answer text (it is not sent back to the model in the history).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeAlias

FinishReason = Literal["stop", "length", "content_filter", "tool_calls", "error", "cancelled"]
ErrorCode = Literal[
    "auth", "rate_limit", "server", "timeout", "connection", "bad_request", "internal"
]
FINISH_REASONS: tuple[FinishReason, ...] = (
    "stop",
    "length",
    "content_filter",
    "tool_calls",
    "error",
    "cancelled",
)
ERROR_CODES: tuple[ErrorCode, ...] = (
    "auth",
    "rate_limit",
    "server",
    "timeout",
    "connection",
    "bad_request",
    "internal",
)


@dataclass(frozen=True, slots=True)
class TextDelta:
    """A piece of the answer's text, as the model produced it."""

    text: str


@dataclass(frozen=True, slots=True)
class ReasoningDelta:
    """A piece of the model's reasoning (thinking), shown apart from the answer."""

    text: str


@dataclass(frozen=True, slots=True)
class ToolCallDelta:
    """A piece of a tool call the model is making, as streamed.

    ``index`` is the provider's position of the call in its batch; ``id`` and
    ``name`` come with a call's first piece (later pieces may leave them empty);
    ``arguments`` is a piece of the call's JSON arguments text. Some servers reuse
    index 0 for every call of a parallel batch, so a new ``id`` means a new call
    (``chat_core.tools.ToolCallAccumulator`` puts the pieces together).
    """

    index: int
    id: str = ""
    name: str = ""
    arguments: str = ""


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts reported by the back end (not estimated).

    ``completion_tokens`` includes ``reasoning_tokens`` when the provider reports
    them (OpenAI's ``completion_tokens_details.reasoning_tokens``).
    """

    prompt_tokens: int
    completion_tokens: int
    reasoning_tokens: int | None = None


@dataclass(frozen=True, slots=True)
class StreamError:
    """A failure, with a stable code and a message that is safe to show."""

    code: ErrorCode
    message: str
    retryable: bool


@dataclass(frozen=True, slots=True)
class Done:
    """The end of a stream; always the last event.

    ``refused``: the model declined; its refusal was streamed as the answer's text.
    ``tool_names``: the tools the model asked to call (``finish_reason="tool_calls"``).
    """

    finish_reason: FinishReason = "stop"
    refused: bool = False
    tool_names: tuple[str, ...] = ()


StreamEvent: TypeAlias = TextDelta | ReasoningDelta | ToolCallDelta | Usage | StreamError | Done


def answer_text(events: list[StreamEvent]) -> str:
    """Concatenate the answer text of a list of events (reasoning left out)."""
    return "".join(e.text for e in events if isinstance(e, TextDelta))


def reasoning_text(events: list[StreamEvent]) -> str:
    """Concatenate the reasoning text of a list of events."""
    return "".join(e.text for e in events if isinstance(e, ReasoningDelta))
