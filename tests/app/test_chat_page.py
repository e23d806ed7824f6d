import pytest
from streamlit.testing.v1 import AppTest

pytestmark = pytest.mark.app


@pytest.fixture
def app(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # no .env, no secrets from the developer's checkout
    monkeypatch.setenv("CHAT_OFFLINE_TPS", "2000")
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "CHAT_REMOTE_URL", "CHAT_BACKEND"):
        monkeypatch.delenv(name, raising=False)
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    monkeypatch.syspath_prepend(str(root))
    at = AppTest.from_file(str(root / "pages" / "chat.py"), default_timeout=30)
    return at.run()


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
    app.chat_input[0].set_value("/error rate_limit after 5\nhello").run()
    turn = app.session_state["chat"].turns[-1]
    assert turn.status == "error"
    assert turn.error.code == "rate_limit"
    assert "Error" not in turn.content and "rate" not in turn.content.lower()
    assert len(app.error) == 1 and "Rate limit" in app.error[0].value
    retry = app.button(key="retry")
    assert retry is not None
