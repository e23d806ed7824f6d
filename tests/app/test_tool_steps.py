"""Tool calls on the chat page (AppTest): tools added in the Workbench, the offline model's
call shown as a step, a typed result sent, the model going on; bad input shown as such."""

import json

import pytest

from tests.app.conftest import new_chat_app

pytestmark = pytest.mark.app


@pytest.fixture
def app(chat_env):
    return new_chat_app()


def add_tools(app, *names):
    for name in names:
        app.button(key=f"add-tool-{name}").click().run()


def test_a_weather_call_is_a_step_and_a_typed_result_gets_the_answer(app):
    add_tools(app, "get_weather")
    assert json.loads(app.text_area(key="wb_tools").value)[0]["name"] == "get_weather"
    app.chat_input[0].set_value("What is the weather in Paris?").run()
    session = app.session_state["chat"]
    [step] = session.turns[-1].tool_steps
    assert step.call.name == "get_weather" and '"Paris"' in step.call.arguments
    assert any('"city": "Paris"' in c.value for c in app.code)  # formatted arguments
    key = f"tool-result-{session.turns[-1].message_id}-0"
    app.text_area(key=key).set_value("18 C and sunny")
    app.button(key=f"FormSubmitter:{key}-form-Send result").click().run()
    assert [t.role for t in session.turns] == ["user", "assistant", "assistant"]
    assert "18 C and sunny" in session.turns[-1].content
    assert not app.exception


def test_the_calculator_loop_runs_with_no_typing(app):
    add_tools(app, "calculator")
    app.chat_input[0].set_value("Compute (2 + 3) * 4, then 6 * 7").run()
    session = app.session_state["chat"]
    assert [t.role for t in session.turns] == ["user", "assistant", "assistant", "assistant"]
    final = session.turns[-1].content
    assert '"result": 20' in final and '"result": 42' in final


def test_bad_input_is_shown_and_nothing_crashes(app):
    app.text_area(key="wb_tools").set_value('[{"name": "f", "parameters": {"type": "nope"}}]').run()
    assert any("not valid JSON Schema" in e.value for e in app.error)
    assert app.chat_input[0].disabled  # nothing is sent until the tools are fixed
    add_tools(app, "get_weather")  # a broken field is left for the person to fix
    assert "nope" in app.text_area(key="wb_tools").value
    app.text_area(key="wb_tools").set_value("").run()
    add_tools(app, "get_weather")
    app.chat_input[0].set_value('/tool launch {"x": 1}\n/tool get_weather {"city":\nhi').run()
    steps = app.session_state["chat"].turns[-1].tool_steps
    assert [s.call.name for s in steps] == ["launch", "get_weather"]
    captions = " ".join(c.value for c in app.caption)
    assert "`launch` is not a defined tool" in captions and "not JSON" in captions
    assert not app.exception


def test_each_chat_keeps_its_own_tools(app):
    add_tools(app, "get_weather")
    app.chat_input[0].set_value("hello").run()
    first = app.session_state["chat"].conversation_id
    app.session_state["chat"].new_conversation()
    app.run()
    app.text_area(key="wb_tools").set_value("").run()  # the new chat: no tools
    add_tools(app, "calculator")
    app.chat_input[0].set_value("hi").run()
    assert '"calculator"' in app.text_area(key="wb_tools").value
    app.session_state["chat"].open(first)
    app.run()
    value = app.text_area(key="wb_tools").value
    assert '"get_weather"' in value and '"calculator"' not in value


def test_a_one_megabyte_result_is_refused_and_kept(app):
    add_tools(app, "get_weather")
    app.chat_input[0].set_value("What is the weather in Oslo?").run()
    turn = app.session_state["chat"].turns[-1]
    key = f"tool-result-{turn.message_id}-0"
    app.text_area(key=key).set_value("x" * 1_000_000)
    app.button(key=f"FormSubmitter:{key}-form-Send result").click().run()
    assert any("Not sent" in e.value and "32,000" in e.value for e in app.error)
    assert turn.tool_steps[0].result is None
    assert len(app.session_state["chat"].turns) == 2  # nothing sent, the chat goes on
    assert not app.exception


def test_over_a_hundred_calls_keep_a_hundred_and_nothing_crashes(app):
    calls = "\n".join(f'/tool get_weather {{"city": "C{i}"}}' for i in range(105))
    app.chat_input[0].set_value(calls + "\nall of them").run(timeout=60)
    steps = app.session_state["chat"].turns[-1].tool_steps
    assert len(steps) == 100 and steps[-1].call.arguments == '{"city": "C99"}'
    assert any("at most 100 calls" in c.value for c in app.caption)
    assert not app.exception
