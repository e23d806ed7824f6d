"""Tool calls on the chat page: the tools the model may call, each call as a step under its
answer (arguments growing live, then checked JSON), a result field per call, and the
conversation going on once every call has its result.

The logic (accumulating pieces, checks, the calculator, what is sent back) is in
``chat_core.tools``; this module only draws it.
"""

import json
import time
from dataclasses import replace

import streamlit as st

from chat_core import (
    ChatError,
    ChatSession,
    ChatTurn,
    GenerationParams,
    StreamEvent,
    ToolCallDelta,
)
from chat_core.tools import (
    EXAMPLE_TOOLS,
    MAX_AUTO_STEPS,
    MAX_CALLS,
    ToolCallAccumulator,
    ToolSpec,
    ToolStep,
    all_answered,
    auto_results,
    dump_tools,
    error_result,
    parse_tools,
    pretty_arguments,
)

TOOLS_KEY = "wb_tools"
AUTO_KEY = "wb_tools_auto_calculator"
AUTO_STEPS_KEY = "tools_auto_steps"
TOOLS_BY_CHAT = "wb_tools_by_chat"  # chat id -> its tools field, for this browser session
TOOLS_CHAT = "wb_tools_chat"  # the chat whose tools the field shows
LIVE_REDRAW_S = 0.1
LIVE_SHOWN = 5  # calls drawn while streaming: each redraw sends them all again


# -- the settings: which tools the model may call --------------------------------------------
def add_example(name: str) -> None:
    """Append an example definition to the tools field (a callback: before the field is drawn)."""
    try:
        specs = list(parse_tools(st.session_state.get(TOOLS_KEY, "")))
    except ChatError:
        return  # the field has a mistake: leave it for the person to fix
    if all(s.name != name for s in specs):
        specs.append(EXAMPLE_TOOLS[name])
    st.session_state[TOOLS_KEY] = dump_tools(specs) or ""


def follow_chat(chat_id: str | None) -> None:
    """Each chat keeps its own tools (for this browser session): switching chats swaps the
    field's text; a chat not seen yet (a new one getting its id) keeps what the field holds."""
    by_chat = st.session_state.setdefault(TOOLS_BY_CHAT, {})
    shown = st.session_state.get(TOOLS_CHAT, chat_id)
    if shown != chat_id:
        by_chat[shown] = st.session_state.get(TOOLS_KEY, "")
        if chat_id in by_chat:
            st.session_state[TOOLS_KEY] = by_chat[chat_id]
    st.session_state[TOOLS_CHAT] = chat_id


def tools_settings(
    params: GenerationParams | None, chat_id: str | None = None
) -> tuple[GenerationParams | None, str | None]:
    """The tools field: (params offering them, problem that stops answers until fixed)."""
    follow_chat(chat_id)
    with st.container(key="tools-settings"):
        st.markdown("**Tools**")
        with st.container(horizontal=True):
            for name in EXAMPLE_TOOLS:
                st.button(
                    f"+ {name}",
                    key=f"add-tool-{name}",
                    type="tertiary",
                    on_click=add_example,
                    args=(name,),
                )
        text = st.text_area(
            "Tool definitions (JSON)",
            key=TOOLS_KEY,
            placeholder='[{"name": "get_weather", "description": "...", "parameters": {...}}]',
            help="A list of {name, description, parameters}; parameters is a JSON Schema.",
        )
        st.checkbox("Answer calculator calls automatically", key=AUTO_KEY, value=True)
    if not text.strip() or params is None:
        return params, None
    try:
        specs = parse_tools(text)
    except ChatError as exc:
        return params, f"Tools: {exc}"
    return replace(params, tools=dump_tools(specs)), None


def offered_tools(params: GenerationParams | None) -> tuple[ToolSpec, ...]:
    """The tools the model was offered (already checked in the settings)."""
    try:
        return parse_tools(params.tools if params is not None else None)
    except ChatError:
        return ()


# -- each call as a step -----------------------------------------------------------------------
def step_label(step: ToolStep, problem: str | None) -> str:
    name = step.call.name.replace("`", "'")[:64] or "?"
    if step.result is not None:
        return f"`{name}` " + ("returned an error" if step.is_error else "answered")
    return f"`{name}`" + (": invalid call" if problem else ": waiting for its result")


def show_tool_steps(
    session: ChatSession, index: int, turn: ChatTurn, specs: tuple[ToolSpec, ...], answerable: bool
) -> None:
    """The calls of the answer at ``index``, each a step; result fields while it may go on."""
    if len(turn.tool_steps) >= MAX_CALLS:
        st.caption(f"An answer keeps at most {MAX_CALLS} calls: any later ones were left out.")
    for position, step in enumerate(turn.tool_steps):
        check = step.check(specs)
        state = "error" if step.is_error or check.problem else "complete"
        if step.result is None and not check.problem:
            state = "running"
        with st.status(
            step_label(step, check.problem),
            type="step",
            state=state,
            expanded=step.result is None,
        ):
            st.code(pretty_arguments(step.call.arguments), language="json")
            if check.problem:
                st.caption(f":red[:material/error: {check.problem}]")
            if step.result is not None:
                st.caption("Error returned" if step.is_error else "Result")
                st.code(step.result, language="json" if _is_json(step.result) else None)
        if step.result is None and answerable:  # outside the step: never folded away
            result_form(session, index, position, turn)


def result_form(session: ChatSession, index: int, position: int, turn: ChatTurn) -> None:
    key = f"tool-result-{turn.message_id or index}-{position}"
    with st.form(key=f"{key}-form", border=False):
        name = turn.tool_steps[position].call.name.replace("`", "'")[:64]  # inert: a code span
        text = st.text_area(f"Result of `{name}`", key=key, placeholder='{"temperature_c": 18}')
        with st.container(horizontal=True):
            send = st.form_submit_button("Send result", icon=":material/send:")
            error = st.form_submit_button("Return an error", icon=":material/error:")
    if send or error:
        result = error_result(text) if error else text
        try:
            session.answer_tool(index, position, result, is_error=error)
        except ChatError as exc:  # too long, or the database away: the text stays in the field
            st.error(f"Not sent: {exc}", icon=":material/block:")
            return
        st.rerun()


def go_on_after_tools(session: ChatSession, backend, params: GenerationParams | None) -> None:
    """Once every call of the last answer has a result, the model goes on; the calculator's
    calls are answered here first when that is enabled (at most MAX_AUTO_STEPS in a row)."""
    turns = session.turns
    if backend is None or params is None or session.live is not None or not turns:
        return
    last = turns[-1]
    if last.role != "assistant" or not last.tool_steps:
        return
    auto = auto_results(last.tool_steps, calculator=st.session_state.get(AUTO_KEY, True))
    taken = st.session_state.get(AUTO_STEPS_KEY, 0)
    if auto and taken < MAX_AUTO_STEPS:
        for position, result in auto:
            session.answer_tool(len(turns) - 1, position, result)
        st.session_state[AUTO_STEPS_KEY] = taken + 1
    elif auto:
        st.info(
            f"The calculator answered {MAX_AUTO_STEPS} steps in a row; answer this one by hand.",
            icon=":material/pan_tool:",
        )
    if all_answered(last.tool_steps):
        try:
            session.go_on_after_tools(backend, params)
        except ChatError as exc:
            st.error(f"Could not go on: {exc}", icon=":material/block:")
            return
        st.rerun()


def reset_auto_steps() -> None:
    """A person's prompt starts a new count of automatic calculator steps."""
    st.session_state.pop(AUTO_STEPS_KEY, None)


# -- live: the calls as they stream ------------------------------------------------------------
class LiveToolSteps:
    """Draws the calls of the streaming answer, their arguments growing as pieces arrive."""

    def __init__(self, slot) -> None:
        self.slot = slot
        self.calls = ToolCallAccumulator()
        self._next_draw = 0.0

    def feed(self, event: StreamEvent) -> None:
        if not isinstance(event, ToolCallDelta):
            return
        self.calls.feed(event)
        start = time.monotonic()
        if start >= self._next_draw:
            self.draw()
            # A slow page (a long batch, a busy server) redraws less often, never more than
            # a third of the time: the stream is not held up by its own display.
            took = time.monotonic() - start
            self._next_draw = start + took + max(LIVE_REDRAW_S, 2 * took)

    def draw(self) -> None:
        calls = self.calls.calls
        with self.slot.container():
            if len(calls) > LIVE_SHOWN:  # a long batch: the latest few, the rest counted
                st.caption(f"{len(calls) - LIVE_SHOWN} earlier calls streamed; all show when done.")
            for call in calls[-LIVE_SHOWN:]:
                name = call.name.replace("`", "'")[:64] or "?"
                with st.status(f"`{name}`: calling…", type="step", state="running", expanded=True):
                    st.code(call.arguments or " ", language="json")
            if self.calls.dropped:
                st.caption(f"{self.calls.dropped} more calls were left out (at most 100).")


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True
