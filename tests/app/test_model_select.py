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


def test_a_configured_model_the_server_does_not_list_gives_way_and_says_so(stub, monkeypatch):
    monkeypatch.setenv("CHAT_MODEL", "my-model")
    monkeypatch.setenv("CHAT_VISITOR_ENDPOINTS", "any")  # a local app: the host is named
    at = new_chat_app()
    assert at.selectbox(key="model_pick").value == "gpt-4o-mini"  # listed, and the default
    assert "my-model" not in at.selectbox(key="model_pick").options
    note = [c.value for c in at.caption if "does not serve `my-model`" in c.value]
    assert note and "gpt-4o-mini" in note[0] and "127.0.0.1:" in note[0]
    at.chat_input[0].set_value("Hello there").run()
    assert at.session_state["chat"].turns[-1].model == "gpt-4o-mini"


def test_on_azure_a_configured_deployment_is_kept(chat_env, monkeypatch):
    # Azure lists base models; its requests name deployments, which it does not list.
    from chat_core import Settings, choose_model
    from chat_core.backends.model_list import ModelList

    settings = Settings(
        openai_base_url="https://x.openai.azure.com/openai/v1", model="my-deployment"
    )
    choice = choose_model(settings, ModelList(("gpt-4o",)))
    assert choice.pick.name == "my-deployment" and choice.caption is None
