"""Tool calls: definitions, streamed calls put together and checked, the built-in calculator.

definitions   a tool's name, description and JSON Schema, checked; each provider's shape
calls         ``ToolCallDelta`` pieces -> calls (parallel calls apart by id), caps, checks
calculator    arithmetic by walking the syntax tree (no eval), bounded
examples      weather, calculator and search definitions, ready to add
steps         an answer's calls as steps with their results; what goes back to the model
"""

from __future__ import annotations

from chat_core.tools.calculator import calculate, run_calculator
from chat_core.tools.calls import (
    MAX_ARGUMENT_CHARS,
    MAX_CALLS,
    MAX_RESULT_CHARS,
    CallCheck,
    PendingCall,
    ToolCallAccumulator,
    accumulate,
    check_call,
    check_result,
    error_result,
    pretty_arguments,
)
from chat_core.tools.definitions import (
    ToolSpec,
    chat_tools,
    check_tool,
    dump_tools,
    parse_tools,
    responses_tools,
)
from chat_core.tools.examples import CALCULATOR, EXAMPLE_TOOLS
from chat_core.tools.steps import (
    MAX_AUTO_STEPS,
    ToolStep,
    all_answered,
    auto_results,
    steps_from_events,
    tool_messages,
)

__all__ = [
    "CALCULATOR",
    "EXAMPLE_TOOLS",
    "MAX_ARGUMENT_CHARS",
    "MAX_AUTO_STEPS",
    "MAX_CALLS",
    "MAX_RESULT_CHARS",
    "CallCheck",
    "PendingCall",
    "ToolCallAccumulator",
    "ToolSpec",
    "ToolStep",
    "accumulate",
    "all_answered",
    "auto_results",
    "calculate",
    "chat_tools",
    "check_call",
    "check_result",
    "check_tool",
    "dump_tools",
    "error_result",
    "parse_tools",
    "pretty_arguments",
    "responses_tools",
    "run_calculator",
    "steps_from_events",
    "tool_messages",
]
