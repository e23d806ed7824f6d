"""The offline model's tool calls: which calls it makes, and its answer once they are answered.

It calls tools in three ways, all deterministic:

- ``/tool NAME ARGUMENTS`` directives (one per line, several make parallel calls):
  exactly those calls, defined or not, arguments sent as typed (bad JSON included);
- with tools defined, a prompt that names one (``weather`` for ``get_weather``) gets a
  call with arguments built from the tool's schema (a city after "in", the prompt as a
  query);
- with the calculator defined, each arithmetic expression in the prompt is one step:
  one call per answer until every expression has a result (a multi-step loop).

Once the last message is a tool result and no call is left, it answers with the
results it was given. Pure: no clock, no I/O.
"""

from __future__ import annotations

import json
import re
import zlib

from chat_core.backends.directives import parse_directives
from chat_core.backends.json_output import example_instance
from chat_core.errors import ChatError
from chat_core.events import ToolCallDelta
from chat_core.messages import ChatMessage, Conversation, GenerationParams, ToolCall
from chat_core.tools.definitions import ToolSpec, parse_tools
from chat_core.tools.examples import CALCULATOR

_EXPRESSION = re.compile(r"[\d(][\d\s.+\-*/%^()]*[\d)]")
_OPERATOR = re.compile(r"\d\s*[-+*/%^]|\)\s*[-+*/%^]|[-+*/%^]\s*[\d(]")
_CITY = re.compile(r"\b(?:in|at|for)\s+([A-Z][\w'-]+(?:\s+[A-Z][\w'-]+)?)")
_SKIP_WORDS = {"get", "set", "search", "find", "fetch", "lookup", "call"}


def expressions(text: str) -> list[str]:
    """The arithmetic expressions in a prompt, in order."""
    found = (m.group().strip() for m in _EXPRESSION.finditer(text))
    return [e for e in found if _OPERATOR.search(e)]


def _loop(conversation: Conversation) -> tuple[str, list[ChatMessage]]:
    """The last user prompt and the messages after it (the tool loop so far)."""
    msgs = conversation.messages
    last_user = max((i for i, m in enumerate(msgs) if m.role == "user"), default=None)
    if last_user is None:  # a stub request of tool results only
        return "", list(msgs)
    return msgs[last_user].content, list(msgs[last_user + 1 :])


def _arguments(spec: ToolSpec, prompt: str, text: str) -> str:
    args = example_instance(spec.parameters)
    args = args if isinstance(args, dict) else {}
    props = spec.parameters.get("properties") or {}
    city = _CITY.search(text)
    for key in props:
        if key in ("city", "location") and city:
            args[key] = city[1]
        elif key in ("query", "q", "question"):
            args[key] = text or prompt
    return json.dumps(args)


def _mentioned(spec: ToolSpec, text: str) -> bool:
    words = [w for w in re.split(r"[_-]", spec.name.lower()) if w and w not in _SKIP_WORDS]
    lowered = text.lower()
    return spec.name.lower() in lowered or any(len(w) > 3 and w in lowered for w in words)


def planned_calls(conversation: Conversation, params: GenerationParams) -> tuple[ToolCall, ...]:
    """The calls the offline model makes for this conversation (none: it answers in text)."""
    prompt, loop = _loop(conversation)
    directives = parse_directives(prompt)
    seed = zlib.crc32(f"{prompt}\0{len(loop)}".encode())
    if conversation.messages[-1].role == "user" and directives.tool_calls:
        return tuple(
            ToolCall(f"call_{seed:08x}_{i}", name, args)
            for i, (name, args) in enumerate(directives.tool_calls)
        )
    try:
        specs = parse_tools(params.tools)
    except ChatError:  # checked where they were typed; a bad list here means no tools
        specs = ()
    if not specs:
        return ()
    by_name = {s.name: s for s in specs}
    if CALCULATOR in by_name:
        done = sum(1 for m in loop if m.role == "tool")
        pending = expressions(directives.text)[done:]
        if pending:
            args = json.dumps({"expression": pending[0]})
            return (ToolCall(f"call_{seed:08x}_0", CALCULATOR, args),)
    if loop:
        return ()  # other tools are called once, on the prompt itself
    calls = [s for s in specs if s.name != CALCULATOR and _mentioned(s, directives.text)]
    return tuple(
        ToolCall(f"call_{seed:08x}_{i}", s.name, _arguments(s, prompt, directives.text))
        for i, s in enumerate(calls)
    )


def answer_after_tools(conversation: Conversation) -> str | None:
    """The answer once the tools have answered (None when the last message is not a result)."""
    if conversation.messages[-1].role != "tool":
        return None
    _, loop = _loop(conversation)
    names = {c.id: c.name for m in loop for c in m.tool_calls}
    lines = ["**Offline model**: the tools answered, so here is what they said:", ""]
    for m in loop:
        if m.role == "tool":
            result = " ".join(m.content.split())
            if len(result) > 300:
                result = result[:297] + "..."
            name = names.get(m.tool_call_id or "", "a tool")
            lines.append(f"- `{name}`: {result}")
    return "\n".join(lines)


def call_pieces(calls: tuple[ToolCall, ...]) -> list[ToolCallDelta]:
    """The calls as a model streams them: id and name first, then the arguments in pieces."""
    out: list[ToolCallDelta] = []
    for i, call in enumerate(calls):
        out.append(ToolCallDelta(i, call.id, call.name, ""))
        out += [ToolCallDelta(i, arguments=p) for p in re.findall(r".{1,6}", call.arguments, re.S)]
    return out
