"""The tools of a stub request, in either API's shape, and the calls and results in its history.

Chat Completions: ``tools = [{"type": "function", "function": {name, description,
parameters}}]``, an assistant message's ``tool_calls``, ``tool`` messages with their
``tool_call_id``. Responses API: ``tools = [{"type": "function", name, description,
parameters, strict}]``, ``function_call`` and ``function_call_output`` input items.
A definition that is not valid raises ValidationError naming it (the request
modules turn it into the API's 400).
Pure: no I/O.
"""

from __future__ import annotations

from typing import Any

from chat_core.errors import ValidationError
from chat_core.messages import ChatMessage, ToolCall
from chat_core.tools.definitions import ToolSpec, check_tool, dump_tools

_DEFINITION_KEYS = ("name", "description", "parameters")


def request_tools(body: dict[str, Any], *, responses: bool = False) -> str | None:
    """The request's function tools as ``GenerationParams.tools`` text (None for none)."""
    raw = body.get("tools")
    if raw is None:
        return None
    if not isinstance(raw, list):
        raise ValidationError("tools", "Invalid type for 'tools': expected an array.")
    specs: list[ToolSpec] = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict) or item.get("type") != "function":
            continue  # built-in tools (web search...) mean nothing to the offline model
        spec = item if responses else item.get("function")
        if not isinstance(spec, dict):
            raise ValidationError(f"tools[{i}].function", "Missing 'function'.")
        definition = {k: spec[k] for k in _DEFINITION_KEYS if k in spec}
        specs.append(check_tool(definition, f"tools[{i}]"))
    return dump_tools(specs)


def chat_tool_calls(raw: object) -> tuple[ToolCall, ...]:
    """An assistant message's ``tool_calls`` as ToolCalls (malformed entries left out)."""
    calls: list[ToolCall] = []
    for item in raw if isinstance(raw, list) else ():
        function = item.get("function") if isinstance(item, dict) else None
        if isinstance(function, dict):
            calls.append(
                ToolCall(
                    str(item.get("id", "")),
                    str(function.get("name", "")),
                    str(function.get("arguments", "")),
                )
            )
    return tuple(calls)


def responses_item(item: dict[str, Any], messages: list[ChatMessage]) -> bool:
    """Add a ``function_call`` / ``function_call_output`` input item; False for other items."""
    kind = item.get("type")
    if kind == "function_call":
        call = ToolCall(
            str(item.get("call_id", "")), str(item.get("name", "")), str(item.get("arguments", ""))
        )
        if messages and messages[-1].role == "assistant":
            last = messages.pop()
            messages.append(
                ChatMessage("assistant", last.content, tool_calls=(*last.tool_calls, call))
            )
        else:
            messages.append(ChatMessage("assistant", "", tool_calls=(call,)))
        return True
    if kind == "function_call_output":
        output = item.get("output")
        text = output if isinstance(output, str) else str(output)
        messages.append(ChatMessage("tool", text, tool_call_id=str(item.get("call_id", ""))))
        return True
    return False
