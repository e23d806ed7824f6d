"""The chat page's answer state machine in AppTest: late clicks, starters, Clear, settings."""

import pytest

from tests.app.conftest import new_chat_app

pytestmark = pytest.mark.app


@pytest.fixture
def app(chat_env):
    return new_chat_app()


def test_a_click_drawn_for_an_older_chat_is_ignored_without_an_exception(app):
    app.chat_input[0].set_value("/echo one answer").run()
    session = app.session_state["chat"]
    regenerate = app.button(key="regenerate")
    session.version += 1  # the chat changed after the button was drawn (another click won)
    regenerate.click().run()
    assert not app.exception
    assert [t.content for t in app.session_state["chat"].turns] == [
        "/echo one answer",
        "one answer",
    ]
    assert app.session_state["chat"].phase == "idle"


def test_the_finished_answer_offers_actions_and_nothing_streams(app):
    app.chat_input[0].set_value("/stall 0.2 after 2\n/echo a b c").run()
    session = app.session_state["chat"]
    assert session.phase == "idle" and session.turns[-1].content == "a b c"
    assert [b.key for b in app.button if b.key == "stop"] == []
    assert app.button(key="regenerate") is not None
    assert not app.chat_input[0].disabled


def test_starters_send_their_prompt(app):
    labels = [b.label for b in app.button if b.key and b.key.startswith("starter-")]
    assert "A long answer `/lorem 300`" in labels and len(labels) == 5  # the directive shows
    next(b for b in app.button if b.label.startswith("A rate limit, then retry")).click().run()
    session = app.session_state["chat"]
    assert session.turns[0].content.startswith("/error rate_limit after 20 times 1")
    assert session.turns[-1].status == "error" and app.button(key="retry") is not None


def test_clear_needs_a_second_step(app):
    app.chat_input[0].set_value("/echo keep").run()
    assert [b for b in app.button if b.key == "clear"] == []
    next(t for t in app.toggle if t.label.startswith("Clear its")).set_value(True).run()
    assert app.session_state["chat"].turns  # nothing cleared yet
    app.button(key="clear").click().run()
    assert app.session_state["chat"].turns == []


def test_a_back_end_without_its_key_says_which_field_in_the_main_area(app):
    app.selectbox(key="backend_choice").select("openai").run()
    assert not app.exception
    assert any("OpenAI API key" in e.value for e in app.main.error)
    assert any(t.label == "Model" for t in app.text_input)
    assert app.chat_input[0].disabled
