"""Streamed tool-call pieces put together, then checked against the tools' definitions.

How the pieces arrive (OpenAI's Chat Completions streaming reference, and what
Ollama-compatible servers do): the first piece of a call carries its ``id`` and
``name``, later pieces only its ``index`` and a piece of the JSON ``arguments``.
Some servers reuse index 0 for every call of a parallel batch, each call whole in one
piece: so a piece whose ``id`` differs from the call open at its index starts a new
call, and a piece without an id continues the call last opened at its index.

Caps keep a runaway model from growing a page without bound: ``MAX_CALLS`` per answer
(further calls are counted, not kept) and ``MAX_ARGUMENT_CHARS`` per call (the rest is
dropped and the call marked). Pure: no I/O.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator

from chat_core.errors import LimitError
from chat_core.events import ToolCallDelta
from chat_core.messages import MAX_MESSAGE_CHARS, ToolCall
from chat_core.tools.definitions import ToolSpec

MAX_CALLS = 100
MAX_ARGUMENT_CHARS = 32_000
MAX_RESULT_CHARS = MAX_MESSAGE_CHARS


@dataclass(slots=True)
class PendingCall:
    """A call as far as it has streamed."""

    index: int
    id: str
    name: str
    arguments: str = ""
    truncated: bool = False

    def finished(self, position: int) -> ToolCall:
        """The call as sent back to the model (an id made up when the server gave none)."""
        return ToolCall(self.id or f"call_{position}", self.name, self.arguments)


class ToolCallAccumulator:
    """Puts one answer's ``ToolCallDelta`` pieces together, parallel calls kept apart."""

    def __init__(self) -> None:
        self.calls: list[PendingCall] = []
        self.dropped = 0  # calls past MAX_CALLS
        self._open: dict[int, PendingCall] = {}  # index -> the call last opened there

    def feed(self, delta: ToolCallDelta) -> PendingCall | None:
        """Add one piece; returns the call it went to (None when it was dropped)."""
        call = self._open.get(delta.index)
        if call is None or (delta.id and call.id and delta.id != call.id):
            if len(self.calls) >= MAX_CALLS:
                self.dropped += 1
                self._open.pop(delta.index, None)
                return None
            call = PendingCall(delta.index, delta.id, delta.name)
            self.calls.append(call)
            self._open[delta.index] = call
        if delta.id and not call.id:
            call.id = delta.id
        if delta.name and not call.name:
            call.name = delta.name
        if delta.arguments and not call.truncated:
            room = MAX_ARGUMENT_CHARS - len(call.arguments)
            call.arguments += delta.arguments[:room]
            call.truncated = len(delta.arguments) > room
        return call

    def finished(self) -> tuple[ToolCall, ...]:
        """The answer's calls, in the order they started."""
        return tuple(c.finished(i) for i, c in enumerate(self.calls))


def accumulate(deltas: list[ToolCallDelta]) -> ToolCallAccumulator:
    """An accumulator fed with every piece of a list."""
    acc = ToolCallAccumulator()
    for delta in deltas:
        acc.feed(delta)
    return acc


@dataclass(frozen=True, slots=True)
class CallCheck:
    """A call's arguments parsed, and what is wrong with the call (None when nothing)."""

    arguments: Any
    problem: str | None

    @property
    def ok(self) -> bool:
        """True when the call names a defined tool with arguments its schema accepts."""
        return self.problem is None


def check_call(name: str, arguments: str, specs: tuple[ToolSpec, ...]) -> CallCheck:
    """Parse a call's arguments and check them against its tool's schema."""
    text = arguments.strip() or "{}"  # some servers send "" for a call without arguments
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError as exc:
        return CallCheck(None, f"The arguments are not JSON: {exc.msg} (at {exc.pos}).")
    spec = next((s for s in specs if s.name == name), None)
    if spec is None:
        return CallCheck(parsed, f"`{name or '?'}` is not a defined tool.")
    error = next(iter(Draft202012Validator(spec.parameters).iter_errors(parsed)), None)
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "the arguments"
        return CallCheck(
            parsed, f"The arguments do not match the schema ({where}: {error.message[:160]})."
        )
    return CallCheck(parsed, None)


def pretty_arguments(arguments: str) -> str:
    """The arguments as indented JSON when they parse, else as they came."""
    try:
        return json.dumps(json.loads(arguments or "{}"), indent=2, ensure_ascii=False)
    except json.JSONDecodeError:
        return arguments


def check_result(text: str) -> str:
    """A typed result, or LimitError when it is too long to send back."""
    if len(text) > MAX_RESULT_CHARS:
        raise LimitError(
            "result", f"The result is over {MAX_RESULT_CHARS:,} characters; shorten it."
        )
    return text


def error_result(message: str) -> str:
    """The result that tells the model its call failed."""
    return json.dumps({"error": message.strip() or "The tool failed."})
