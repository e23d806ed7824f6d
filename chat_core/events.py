"""Typed stream events: what every back end yields, whatever its wire format.

A stream is zero or more ``TextDelta`` and ``Usage`` events, at most one
``StreamError``, and exactly one ``Done`` at the end. Text is never mixed with
errors: an error is a ``StreamError`` event, never "Error: ..." in the answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeAlias

FinishReason = Literal["stop", "length", "error", "cancelled"]
ErrorCode = Literal[
    "auth", "rate_limit", "server", "timeout", "connection", "bad_request", "internal"
]
FINISH_REASONS: tuple[FinishReason, ...] = ("stop", "length", "error", "cancelled")
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
class Usage:
    """Token counts reported by the back end (not estimated)."""

    prompt_tokens: int
    completion_tokens: int


@dataclass(frozen=True, slots=True)
class StreamError:
    """A failure, with a stable code and a message that is safe to show."""

    code: ErrorCode
    message: str
    retryable: bool


@dataclass(frozen=True, slots=True)
class Done:
    """The end of a stream; always the last event."""

    finish_reason: FinishReason = "stop"


StreamEvent: TypeAlias = TextDelta | Usage | StreamError | Done


def answer_text(events: list[StreamEvent]) -> str:
    """Concatenate the text of a list of events."""
    return "".join(e.text for e in events if isinstance(e, TextDelta))
