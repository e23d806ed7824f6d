"""The Model select against an OpenAI-style model list served by the stub on 127.0.0.1."""

import pytest

from chat_core.openai_stub import create_app
from tests.app.conftest import new_chat_app
from tests.support.servers import serve_app

pytestmark = pytest.mark.app

# What OpenAI's /v1/models lists, alphabetically: most of it cannot chat.
OPENAI_STYLE = [
    "babbage-002",
    "dall-e-3",
    "gpt-4o",
    "gpt-4o-mini",
    "gpt-5-mini",
    "omni-moderation-latest",
    "text-embedding-3-small",
    "tts-1",
    "whisper-1",
]


@pytest.fixture
def stub(chat_env, monkeypatch):
    with serve_app(create_app(2000, models=OPENAI_STYLE)) as url:
        monkeypatch.setenv("OPENAI_BASE_URL", url + "/v1")
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
        yield url


def test_the_configured_model_is_selected_and_non_chat_models_are_hidden(stub, monkeypatch):
    monkeypatch.setenv("CHAT_MODEL", "gpt-5-mini")
    at = new_chat_app()
    select = at.selectbox(key="model_pick")
    assert select.value == "gpt-5-mini"
    assert select.options[0] == "gpt-5-mini"
    assert {"gpt-4o", "gpt-4o-mini", "babbage-002"} <= set(select.options)
    for hidden in ("dall-e-3", "omni-moderation-latest", "text-embedding-3-small", "tts-1"):
        assert hidden not in select.options
    at.chat_input[0].set_value("Hello there").run()
    turn = at.session_state["chat"].turns[-1]
    assert turn.status == "complete" and turn.model == "gpt-5-mini"


def test_without_a_configured_model_the_back_end_default_is_selected(stub):
    at = new_chat_app()
    select = at.selectbox(key="model_pick")
    assert select.value == select.options[0] != "babbage-002"
    assert "whisper-1" not in select.options


def test_the_select_still_takes_free_text(stub):
    # AppTest cannot type a new option (it sends an index); the widget's flag is what allows it.
    assert new_chat_app().selectbox(key="model_pick").proto.accept_new_options


def test_a_configured_model_the_server_does_not_list_is_still_offered(stub, monkeypatch):
    monkeypatch.setenv("CHAT_MODEL", "my-deployment")  # Azure names deployments freely
    assert new_chat_app().selectbox(key="model_pick").value == "my-deployment"
