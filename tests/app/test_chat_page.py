import pytest

from tests.app.conftest import new_chat_app

pytestmark = pytest.mark.app


@pytest.fixture
def app(chat_env):
    return new_chat_app()


def test_streamed_answer_lands_in_history(app):
    assert "Offline model" in app.info[0].value
    app.chat_input[0].set_value("How do tokens stream?").run()
    session = app.session_state["chat"]
    assert [t.role for t in session.turns] == ["user", "assistant"]
    answer = session.turns[1]
    assert answer.status == "complete"
    assert "How do tokens stream?" in answer.content
    assert "first token" in answer.metrics.caption()
    assert not session.streaming
    assert not app.chat_input[0].disabled


def test_error_directive_shows_error_and_keeps_text_clean(app):
    app.chat_input[0].set_value("/error rate_limit after 5 times 1\nhello").run()
    turn = app.session_state["chat"].turns[-1]
    assert turn.status == "error"
    assert turn.error.code == "rate_limit"
    assert "Error" not in turn.content and "rate" not in turn.content.lower()
    assert len(app.error) == 1 and "Rate limit" in app.error[0].value
    retry = app.button(key="retry")
    assert retry is not None


def test_retry_is_offered_only_where_retrying_can_help(app):
    app.chat_input[0].set_value("/error auth after 5 times 1\nhello").run()
    assert "API key was rejected" in app.error[0].value
    assert [b.key for b in app.button if b.key in ("retry", "continue")] == []
    app.chat_input[0].set_value("/error server after 5\nagain").run()  # fails every time
    assert "fails every time" in app.error[-1].value
    assert [b.key for b in app.button if b.key in ("retry", "continue")] == []
