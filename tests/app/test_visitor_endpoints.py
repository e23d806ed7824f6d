"""The pages as a visitor uses them: endpoint fields start empty (the owner's URLs never
shown), ``off`` hides them, a refused address is explained in the sidebar, and a listener
typed as Base URL, Remote SSE URL or load-test URL gets none of the owner's secrets."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from streamlit.testing.v1 import AppTest

from chat_core.backends.offline import OfflineBackend
from chat_core.gateway import GatewayConfig
from chat_core.gateway import create_app as create_gateway
from chat_core.openai_stub import create_app as create_stub
from tests.app.conftest import ROOT
from tests.support.recorder import Recorder, recording

pytestmark = pytest.mark.app
CANARY = "c4n4ry"
OWNER_SECRETS = {"OPENAI_API_KEY": f"sk-owner-{CANARY}", "CHAT_GATEWAY_TOKEN": f"tok-{CANARY}"}


@pytest.fixture
def owner_env(chat_env, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", f"sk-env-owner-{CANARY}")
    monkeypatch.setenv("CHAT_GATEWAY_TOKEN", f"env-tok-{CANARY}")
    monkeypatch.setenv("OPENAI_ORG_ID", f"org-{CANARY}")
    monkeypatch.setenv("OPENAI_PROJECT_ID", f"proj-{CANARY}")
    monkeypatch.setenv("OPENAI_CUSTOM_HEADERS", f"X-Team: {CANARY}")
    return chat_env


@pytest.fixture
def stub() -> Iterator[Recorder]:
    with recording(create_stub(tokens_per_second=2000)) as recorder:
        yield recorder


@pytest.fixture
def visitor_gateway() -> Iterator[Recorder]:
    app = create_gateway(backend=OfflineBackend(tokens_per_second=2000), config=GatewayConfig())
    with recording(app) as recorder:
        yield recorder


def page(name: str, **secrets: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app_pages" / name), default_timeout=30)
    for key, value in {**OWNER_SECRETS, **secrets}.items():
        at.secrets[key] = value
    return at.run()


def field(at: AppTest, label: str):
    matches = [t for t in at.text_input if t.label == label]
    return matches[0] if matches else None


def sidebar_errors(at: AppTest) -> str:
    return " ".join(e.value for e in at.sidebar.error)


def test_the_owner_urls_are_never_shown(owner_env, monkeypatch) -> None:
    monkeypatch.setenv("CHAT_VISITOR_ENDPOINTS", "public")
    at = page("chat.py", OPENAI_BASE_URL="http://10.1.2.3:9/v1", CHAT_REMOTE_URL="http://10.9.9.9")
    for label in ("Base URL", "Remote SSE URL"):
        shown = field(at, label)
        assert shown is not None and shown.value == ""
        assert shown.proto.placeholder == "the app's configured endpoint"
    assert "10.1.2.3" not in str(at.sidebar) and "10.9.9.9" not in str(at.sidebar)


def test_off_hides_the_endpoint_fields(owner_env, monkeypatch) -> None:
    monkeypatch.setenv("CHAT_VISITOR_ENDPOINTS", "off")
    chat = page("chat.py")
    assert field(chat, "Base URL") is None and field(chat, "Remote SSE URL") is None
    assert field(chat, "OpenAI API key") is not None  # a visitor may still bring a key
    diagnostics = page("diagnostics.py")
    assert field(diagnostics, "Gateway URL") is None


def test_a_refused_address_is_explained_in_the_sidebar(owner_env, monkeypatch, stub) -> None:
    monkeypatch.setenv("CHAT_VISITOR_ENDPOINTS", "public")
    at = page("chat.py")
    field(at, "Base URL").set_value(stub.url.replace("127.0.0.1", "2130706433") + "/v1").run()
    message = sidebar_errors(at)
    assert "loopback" in message and "CHAT_VISITOR_ENDPOINTS=any" in message
    assert at.chat_input[0].disabled
    assert stub.seen == []


def test_a_visitor_base_url_on_the_chat_page_gets_no_owner_secret(
    owner_env, monkeypatch, stub
) -> None:
    monkeypatch.setenv("CHAT_VISITOR_ENDPOINTS", "any")
    at = page("chat.py")
    field(at, "Base URL").set_value(stub.url + "/v1").run()
    at.chat_input[0].set_value("/echo from the visitor").run()
    assert not at.exception
    assert "from the visitor" in " ".join(m.value for m in at.markdown)
    paths = {s.path for s in stub.seen}
    assert {"/v1/models", "/v1/chat/completions"} <= paths
    assert CANARY not in stub.header_values()


def test_a_visitor_remote_url_on_the_chat_page_gets_no_owner_token(
    owner_env, monkeypatch, visitor_gateway
) -> None:
    monkeypatch.setenv("CHAT_VISITOR_ENDPOINTS", "any")
    at = page("chat.py")
    field(at, "Remote SSE URL").set_value(visitor_gateway.url).run()
    at.chat_input[0].set_value("/echo through a visitor gateway").run()
    assert "through a visitor gateway" in " ".join(m.value for m in at.markdown)
    assert visitor_gateway.seen and CANARY not in visitor_gateway.header_values()


def test_the_diagnostics_load_test_sends_a_typed_url_no_owner_token(
    owner_env, monkeypatch, visitor_gateway
) -> None:
    monkeypatch.setenv("CHAT_VISITOR_ENDPOINTS", "any")
    at = page("diagnostics.py")
    at.text_input(key="load_url").set_value(visitor_gateway.url)
    at.slider(key="load_streams").set_value(2)
    (button,) = [b for b in at.get("button") if getattr(b, "label", "") == "Run load test"]
    at = button.click().run()
    assert not at.exception
    assert len(visitor_gateway.seen) == 2 and CANARY not in visitor_gateway.header_values()
