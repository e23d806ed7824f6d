"""The workbench on the chat page: View code (no owner secret), variables, presets, schemas."""

import json

import pytest

from chat_core import new_browser_token
from chat_core.openai_stub import create_app as create_stub
from tests.app.conftest import new_chat_app
from tests.support.servers import serve_app

pytestmark = pytest.mark.app

CANARY_KEY = "sk-CANARY-app-owner-key"


def open_view_code(app, index: int = 1):
    """Open the answer's View code popover, beside its prompt (its state is under its key)."""
    app.session_state[f"code-{index - 1}"] = True
    return app.run()


def test_view_code_shows_python_and_curl_for_the_answer(chat_env):
    app = new_chat_app()
    app.chat_input[0].set_value("Show me {braces} and 'quotes'").run()
    assert app.code == []  # closed popovers build nothing
    app = open_view_code(app)
    sources = [c.value for c in app.code]
    assert len(sources) == 2
    python, curl = sources
    assert "client.chat.completions.create(" in python
    assert "Show me {braces} and 'quotes'" in python
    assert "/chat/completions" in curl and "<<'JSON'" in curl


def test_view_code_never_shows_the_owners_key_or_url(chat_env, monkeypatch):
    with serve_app(create_stub(tokens_per_second=5000)) as stub_url:
        owner_url = f"{stub_url}/v1"
        monkeypatch.setenv("OPENAI_API_KEY", CANARY_KEY)
        monkeypatch.setenv("OPENAI_BASE_URL", owner_url)
        app = new_chat_app()
        app.chat_input[0].set_value("hello").run()
        assert app.session_state["chat"].turns[1].status == "complete"  # the owner's endpoint
        app = open_view_code(app)
    sources = [c.value for c in app.code]
    assert len(sources) == 2
    shown = "\n".join([*sources, *(m.value for m in app.markdown), *(c.value for c in app.caption)])
    assert CANARY_KEY not in shown
    assert stub_url.split("//")[1] not in shown  # host:port of the owner's endpoint
    assert "os.environ['OPENAI_BASE_URL']" in sources[0]
    assert "os.environ['OPENAI_API_KEY']" in sources[0]


def test_a_prompt_with_variables_waits_for_its_fields_then_sends_them_filled(chat_env):
    app = new_chat_app()
    app.chat_input[0].set_value("Weather in {{city}} on {{day}}?").run()
    session = app.session_state["chat"]
    assert session.turns == []  # held: nothing sent or stored yet
    assert [t.label for t in app.text_input if t.label.startswith("{{")] == ["{{city}}", "{{day}}"]
    app.text_input(key="wb-var-city").set_value("Oslo")
    app.button(key="wb_send").click().run()
    assert "{{day}} is empty" in app.error[0].value
    assert app.session_state["chat"].turns == []  # still nothing sent
    app.text_input(key="wb-var-day").set_value("Monday")
    app.button(key="wb_send").click().run()
    turns = app.session_state["chat"].turns
    assert [t.role for t in turns] == ["user", "assistant"]
    assert turns[0].content == "Weather in Oslo on Monday?"
    assert "Weather in Oslo on Monday?" in turns[1].content  # the offline model echoes it
    assert turns[0].params["template"] == "Weather in {{city}} on {{day}}?"


def test_a_bad_variable_name_is_named_and_the_prompt_kept(chat_env):
    app = new_chat_app()
    app.chat_input[0].set_value("Hi {{ci{ty}}").run()
    assert "braces inside" in app.error[0].value
    assert app.text_area(key="wb_template").value == "Hi {{ci{ty}}"
    assert app.button(key="wb_send") is not None
    app.button(key="wb_send").click().run()
    assert app.session_state["chat"].turns == []


def test_edit_shows_the_template_and_its_values_again(chat_env):
    app = new_chat_app()
    app.chat_input[0].set_value("Tell me about {{topic}}").run()
    app.text_input(key="wb-var-topic").set_value("rivers")
    app.button(key="wb_send").click().run()
    assert app.session_state["chat"].turns[0].content == "Tell me about rivers"
    reopened = new_chat_app(
        browser=app.session_state["browser_token"], c=app.session_state["chat"].conversation_id
    )
    turn = reopened.session_state["chat"].turns[0]
    assert turn.content == "Tell me about rivers"
    version = reopened.session_state["chat"].version
    reopened.session_state[f"edit-0-{version}"] = True  # open its Edit popover (drawn lazily)
    reopened.run()
    edit = [t for t in reopened.text_area if t.label == "Your message"]
    assert edit[0].value == "Tell me about {{topic}}"
    field = [t for t in reopened.text_input if t.label == "{{topic}}"]
    assert field[0].value == "rivers"
    field[0].set_value("lakes")
    reopened.button(key="resend-0").click().run()
    turns = reopened.session_state["chat"].turns
    assert turns[0].content == "Tell me about lakes"
    assert turns[0].params["template_values"] == '{"topic": "lakes"}'


def test_save_pick_rename_and_delete_a_preset(chat_env):
    app = new_chat_app()
    app.text_area(key="system_prompt").set_value("Answer in one line.")
    app.slider(key="temperature").set_value(0.2)
    app.number_input(key="max_tokens").set_value(300)
    app.text_input(key="wb_preset_name").set_value("Terse")
    app.button(key="wb_preset_save").click().run()
    assert "Saved 'Terse'" in app.success[0].value
    # Change the settings, then pick the preset: the panel's fields show it again.
    app.text_area(key="system_prompt").set_value("Something else.")
    app.slider(key="temperature").set_value(1.5).run()
    app.selectbox(key="wb_preset").set_value("Terse").run()
    assert app.text_area(key="system_prompt").value == "Answer in one line."
    assert app.slider(key="temperature").value == 0.2
    assert app.number_input(key="max_tokens").value == 300
    app.chat_input[0].set_value("hello").run()  # sent with the preset's settings
    assert app.session_state["chat"].turns[-1].status == "complete"
    # Saved per owner: a new session of the same browser finds it.
    again = new_chat_app(browser=app.session_state["browser_token"])
    assert again.selectbox(key="wb_preset").options == ["Terse"]
    again.selectbox(key="wb_preset").set_value("Terse").run()
    again.text_input(key="wb_preset_name").set_value("Brief")
    again.button(key="wb_preset_rename").click().run()
    assert again.selectbox(key="wb_preset").options == ["Brief"]
    again.button(key="wb_preset_delete").click().run()
    assert again.selectbox(key="wb_preset").options == []
    other = new_chat_app(new_browser_token())  # another browser: another owner
    assert other.selectbox(key="wb_preset").options == []


def test_a_preset_without_a_name_is_refused_with_a_message(chat_env):
    app = new_chat_app()
    app.button(key="wb_preset_save").click().run()
    assert "preset name" in app.error[0].value


SCHEMA = (
    '{"type": "object", "properties": {"city": {"type": "string"}, '
    '"temperature_c": {"type": "number"}}, "required": ["city", "temperature_c"]}'
)


def captions(app) -> str:
    return "\n".join(c.value for c in app.caption)


def test_a_schema_makes_the_offline_model_answer_json_shown_valid(chat_env):
    app = new_chat_app()
    app.text_area(key="wb_schema").set_value(SCHEMA).run()
    app.chat_input[0].set_value("Weather in Oslo?").run()
    turns = app.session_state["chat"].turns
    assert turns[-1].status == "complete"
    assert set(json.loads(turns[-1].content)) == {"city", "temperature_c"}
    assert "valid] against the JSON schema" in captions(app)
    assert "not valid" not in captions(app)
    # A broken answer, on request: the first failing path and why.
    app.chat_input[0].set_value('/echo {"city": "Oslo"}').run()
    assert "not valid] at `$`: 'temperature_c' is a required property" in captions(app)
    stored = app.session_state["chat"].store.get_message(
        app.session_state["chat"].owner, app.session_state["chat"].turns[-1].message_id
    )
    assert stored.metrics["schema_valid"] is False
    assert stored.metrics["schema_error"] == "'temperature_c' is a required property"


def test_a_schema_that_is_not_a_schema_stops_answers_and_says_why(chat_env):
    app = new_chat_app()
    app.text_area(key="wb_schema").set_value('{"type": "strin"}').run()
    assert any("Not a valid JSON Schema at type" in e.value for e in app.error)
    assert app.chat_input[0].disabled
    assert app.session_state["chat"].turns == []
