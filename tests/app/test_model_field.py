"""The Model field and the endpoint fields with real servers on 127.0.0.1: a server without
a model list, Test connection, and bad input that sends and stores nothing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from chat_core.openai_stub import create_app
from tests.app.conftest import new_chat_app
from tests.support.servers import serve_app

pytestmark = pytest.mark.app
SERVED = "qwen3:0.6b"


@pytest.fixture
def strict(chat_env, monkeypatch) -> Iterator[str]:
    monkeypatch.setenv("CHAT_VISITOR_ENDPOINTS", "any")  # the servers are on 127.0.0.1
    with serve_app(create_app(2000, models=[SERVED], strict_models=True)) as url:
        yield url


def sidebar_text(at) -> str:
    parts = [*at.sidebar.error, *at.sidebar.caption, *at.sidebar.success]
    return " ".join(p.value for p in parts)


def requests(url: str) -> int:
    import httpx

    return int(httpx.get(url + "/_stub/stats").json()["requests"])


def test_a_base_url_typed_after_offline_resets_the_model_to_the_servers(strict):
    at = new_chat_app()
    assert at.selectbox(key="model_pick").value == "offline-scripted"
    at.text_input(key="base_url").input(strict + "/v1").run()
    assert at.selectbox(key="model_pick").value == SERVED
    assert at.selectbox(key="model_pick").options == [SERVED]
    at.chat_input[0].set_value("Hello").run()
    turn = at.session_state["chat"].turns[-1]
    assert turn.status == "complete" and turn.model == SERVED
    at.text_input(key="base_url").input("").run()  # back to offline: its model again
    assert at.selectbox(key="model_pick").value == "offline-scripted"


def test_a_server_without_a_model_list_keeps_a_text_field(chat_env, monkeypatch):
    async def chat(request):  # a server with chat but no /v1/models
        return JSONResponse({"error": {"message": "no"}}, 404)

    app = Starlette(routes=[Route("/v1/chat/completions", chat, methods=["POST"])])
    with serve_app(app) as url:
        monkeypatch.setenv("OPENAI_BASE_URL", url + "/v1")
        at = new_chat_app()
        assert [s for s in at.selectbox if s.key == "model_pick"] == []
        assert at.text_input(key="model_text").value == ""
        assert "has no model list (404)" in sidebar_text(at)


def test_test_connection_lists_the_servers_models(strict, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", strict + "/v1")
    at = new_chat_app()
    at.button(key="test_connection").click().run()
    assert f"answered. Its chat models: `{SERVED}`" in sidebar_text(at)


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://someone:hunter2@127.0.0.1:{port}/v1", "user name or password"),
        ("javascript:alert(1)", "must start with http:// or https://"),
        ("127.0.0.1:{port}/v1", "needs http:// or https:// in front"),
    ],
)
def test_a_bad_base_url_is_explained_and_nothing_is_sent_or_stored(strict, url, says):
    at = new_chat_app()
    port = strict.rsplit(":", 1)[1]
    at.text_input(key="base_url").input(url.format(port=port)).run()
    assert says in sidebar_text(at)
    assert "hunter2" not in " ".join(e.value for e in [*at.error, *at.sidebar.error])
    assert at.chat_input[0].disabled  # nothing can be sent
    assert requests(strict) == 0
    assert at.session_state["chat"].turns == []


@pytest.mark.parametrize("name", ["gpt 4o mini", "m" * 500])
def test_a_model_name_with_spaces_or_500_characters_sends_nothing(strict, name):
    at = new_chat_app()
    at.text_input(key="base_url").input(strict).run()  # no /v1: no model list, a text field
    at.text_input(key="model_text").input(name).run()
    assert "model name" in " ".join(e.value for e in at.error).lower()
    assert at.chat_input[0].disabled
    assert requests(strict) == 0
    assert at.session_state["chat"].turns == []


def test_a_list_that_comes_late_replaces_the_guess(chat_env, monkeypatch):
    import threading

    from tests.support.polling import wait_for

    release = threading.Event()

    async def models(request):  # answers only when the test says so
        import anyio

        await anyio.to_thread.run_sync(release.wait, 10)
        return JSONResponse({"object": "list", "data": [{"id": SERVED, "object": "model"}]})

    app = Starlette(routes=[Route("/v1/models", models)])
    with serve_app(app) as url:
        monkeypatch.setenv("OPENAI_BASE_URL", url + "/v1")
        at = new_chat_app()  # the page is drawn without the list, after a bounded wait
        assert at.text_input(key="model_text").placeholder == "gpt-4o-mini"
        assert "for its models" in sidebar_text(at)
        release.set()
        assert wait_for(lambda: [s for s in at.run().selectbox if s.key == "model_pick"])
        assert at.selectbox(key="model_pick").value == SERVED
