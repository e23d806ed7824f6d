"""An answer's tool calls as steps: each call, its check, and the result given for it.

The chat keeps one ``ToolStep`` per call of an answer. When every step has a result
the conversation goes on: the answer with its calls, then one ``tool`` message per
call, in order (``tool_messages``). The calculator, when enabled, answers its own
calls (``auto_results``); a step cap keeps a model that calls forever from looping.
Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from chat_core.events import StreamEvent, ToolCallDelta
from chat_core.messages import ChatMessage, ToolCall
from chat_core.tools.calculator import run_calculator
from chat_core.tools.calls import CallCheck, ToolCallAccumulator, check_call
from chat_core.tools.definitions import ToolSpec
from chat_core.tools.examples import CALCULATOR

MAX_AUTO_STEPS = 8  # answers in a row the calculator may answer without a person


@dataclass
class ToolStep:
    """One call of an answer and the result given for it (None: waiting for one)."""

    call: ToolCall
    result: str | None = None
    is_error: bool = False

    def check(self, specs: tuple[ToolSpec, ...]) -> CallCheck:
        """The call's arguments parsed and checked against its tool's schema."""
        return check_call(self.call.name, self.call.arguments, specs)


def steps_from_events(events: Sequence[StreamEvent]) -> tuple[list[ToolStep], int]:
    """The steps of a finished answer's events, and how many calls past the cap were dropped."""
    acc = ToolCallAccumulator()
    for event in events:
        if isinstance(event, ToolCallDelta):
            acc.feed(event)
    return [ToolStep(call) for call in acc.finished()], acc.dropped


def all_answered(steps: Sequence[ToolStep]) -> bool:
    """True when every step has a result (and there is at least one)."""
    return bool(steps) and all(s.result is not None for s in steps)


def tool_messages(content: str, steps: Sequence[ToolStep]) -> list[ChatMessage]:
    """What the model is sent for an answer with calls: the calls, then each result.

    Calls left without a result are not sent as calls (the APIs refuse a call with no
    result after it): the answer's text alone goes, when it has any.
    """
    if not all_answered(steps):
        return [ChatMessage("assistant", content)] if content else []
    calls = tuple(s.call for s in steps)
    return [
        ChatMessage("assistant", content, tool_calls=calls),
        *(ChatMessage("tool", s.result or "", tool_call_id=s.call.id) for s in steps),
    ]


def auto_results(steps: Sequence[ToolStep], *, calculator: bool) -> list[tuple[int, str]]:
    """(position, result) for the waiting steps the app answers itself: the calculator's."""
    if not calculator:
        return []
    return [
        (i, run_calculator(s.call.arguments))
        for i, s in enumerate(steps)
        if s.result is None and s.call.name == CALCULATOR
    ]
