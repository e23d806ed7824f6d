"""View code on the chat page: the popover beside an answer, with the owner's secrets kept out."""

import pytest

from chat_core.openai_stub import create_app as create_stub
from tests.app.conftest import new_chat_app
from tests.support.servers import serve_app

pytestmark = pytest.mark.app

CANARY_KEY = "sk-CANARY-app-owner-key"


def open_view_code(app, index: int = 1):
    """Open the answer's View code popover (its state is a widget value under its key)."""
    turn = app.session_state["chat"].turns[index]
    app.session_state[f"code-fb-{turn.message_id or index}"] = True
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
