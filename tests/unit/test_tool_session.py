"""The tool loop in a ChatSession: calls become steps, results are stored, the model goes on
with ``tool`` messages; a reload shows the whole exchange; the calculator loop needs no typing."""

from __future__ import annotations

from pathlib import Path

import pytest

from chat_core import GenerationParams, OfflineBackend
from chat_core.chat.session import ChatSession
from chat_core.errors import LimitError
from chat_core.storage.store import ChatStore
from chat_core.tools import EXAMPLE_TOOLS, MAX_AUTO_STEPS, auto_results, dump_tools
from tests.support.runs import iter_run

PARAMS = GenerationParams(
    tools=dump_tools([EXAMPLE_TOOLS["get_weather"], EXAMPLE_TOOLS["calculator"]])
)
BACKEND = OfflineBackend(5000)


def wait_finished(session: ChatSession):  # type: ignore[no-untyped-def]
    assert session.run is not None
    for _ in iter_run(session.run):
        pass
    return session.finish()


def test_weather_call_answered_by_hand_then_reloaded(tmp_path: Path) -> None:
    session = ChatSession(store=ChatStore(tmp_path / "c.sqlite3"), owner="browser:me")
    session.submit("What is the weather in Paris?", BACKEND, PARAMS)
    turn = wait_finished(session)
    [step] = turn.tool_steps
    assert step.call.name == "get_weather" and step.check(()).problem is not None
    assert step.result is None and turn.note() is None
    assert session.go_on_after_tools(BACKEND, PARAMS) is None  # not answered yet
    with pytest.raises(LimitError):
        session.answer_tool(1, 0, "x" * 1_000_000)
    assert step.result is None
    session.answer_tool(1, 0, "19 C, light rain")
    assert session.go_on_after_tools(BACKEND, PARAMS) is not None
    final = wait_finished(session)
    assert "19 C, light rain" in final.content
    history = session.model_history()
    assert [m.role for m in history] == ["user", "assistant", "tool", "assistant"]
    assert history[2].tool_call_id == step.call.id

    reopened = ChatSession(store=session.store, owner=session.owner)
    assert reopened.open(session.conversation_id or "")
    assert [t.role for t in reopened.turns] == ["user", "assistant", "assistant"]
    [again] = reopened.turns[1].tool_steps
    assert (again.call, again.result) == (step.call, "19 C, light rain")
    assert reopened.model_history() == history


def test_the_calculator_loop_runs_without_typing() -> None:
    session = ChatSession()
    session.submit("Work out (2 + 3) * 4 and then 6 * 7", BACKEND, PARAMS)
    turn = wait_finished(session)
    for _ in range(MAX_AUTO_STEPS):
        results = auto_results(turn.tool_steps, calculator=True)
        if not results:
            break
        index = len(session.turns) - 1
        for position, result in results:
            session.answer_tool(index, position, result)
        assert session.go_on_after_tools(BACKEND, PARAMS) is not None
        turn = wait_finished(session)
    assert '"result": 20' in turn.content and '"result": 42' in turn.content
    assert sum(1 for t in session.turns if t.tool_steps) == 2
    assert auto_results(session.turns[1].tool_steps, calculator=False) == []


def test_thinking_then_a_tool_call_collapses_the_thinking() -> None:
    from chat_core.chat.thinking import reasoning_first, render_reasoning
    from chat_core.events import Done, ReasoningDelta, ToolCallDelta
    from chat_core.runs import Run

    run = Run("r1")
    for event in (
        ReasoningDelta("Let me call it."),
        ToolCallDelta(0, "c1", "get_weather", "{}"),
        Done("tool_calls", tool_names=("get_weather",)),
    ):
        run.append(event)
    assert reasoning_first(run)
    thoughts = render_reasoning(run, frame_s=0.0)
    assert "".join(str(c) for c in thoughts if isinstance(c, str)) == "Let me call it."
    assert thoughts.seq == 1  # the answer view (and the live steps) start at the call
