"""Private chats on the chat page: each browser its own, the logged-in user's across browsers."""

import httpx
import pytest
import streamlit as st

from chat_core import new_browser_token
from chat_core.openai_stub import create_app
from tests.app.conftest import browser_of, new_chat_app
from tests.support.servers import serve_app

pytestmark = pytest.mark.app

ADA = {
    "is_logged_in": True,
    "iss": "https://idp.example",
    "sub": "ada-1815",
    "name": "Ada Lovelace",
    "email": "ada@example.com",
}


def chat_titles(at):
    """The chat list's titles, without their relative dates ("Title · 2 h ago")."""
    labels = [b.label for b in at.sidebar.button if b.key and b.key.startswith("conv-")]
    return [label.rsplit(" · ", 1)[0] for label in labels]


def ask(at, prompt):
    at.chat_input[0].set_value(prompt).run()
    assert not at.exception, at.exception
    return at.session_state["chat"]


def labels(at):
    return [b.label for b in at.sidebar.button]


def test_a_first_visit_gets_a_fresh_private_identity_and_stores_it(chat_env):
    other = new_chat_app()
    ask(other, "Someone else's plans")
    at = new_chat_app()  # a browser with no cookie yet
    token = browser_of(at)
    assert token != browser_of(other)
    assert at.session_state["chat"].owner == f"browser:{token}"
    assert chat_titles(at) == []  # even on its very first run
    scripts = [h.proto.body for h in at.sidebar.get("html")]
    assert any(f'"{token}"' in body and "chat_identity" in body for body in scripts)


def test_two_browsers_never_see_each_others_chats(chat_env):
    alice, bob = new_chat_app(), new_chat_app()
    alice_chat = ask(alice, "/echo alice's secret").conversation_id
    ask(bob, "/echo bob's secret")
    alice.run()
    assert chat_titles(alice) == ["/echo alice's secret"]
    assert chat_titles(bob) == ["/echo bob's secret"]

    # Bob opens Alice's URL: unknown to him, nothing shown, the parameter dropped.
    peeking = new_chat_app(browser_of(bob), c=alice_chat)
    assert peeking.session_state["chat"].conversation_id is None
    assert peeking.session_state["chat"].turns == []
    assert "c" not in peeking.query_params
    assert not [e for e in peeking.sidebar.expander if e.label == "This chat"]
    assert chat_titles(peeking) == ["/echo bob's secret"]


def test_a_browser_gets_its_chats_back_after_a_restart(chat_env):
    at = new_chat_app()
    conversation_id = ask(at, "/echo mine").conversation_id
    st.cache_resource.clear()  # a new app process on the same database
    again = new_chat_app(browser_of(at), c=conversation_id)
    assert chat_titles(again) == ["/echo mine"]
    assert [t.content for t in again.session_state["chat"].turns] == ["/echo mine", "mine"]


def test_a_damaged_cookie_is_replaced_by_a_fresh_identity(chat_env):
    at = new_chat_app()
    ask(at, "/echo kept")
    fresh = new_chat_app(new_browser_token())  # some other, valid token: another browser
    assert chat_titles(fresh) == []


def test_the_logged_in_user_owns_the_chats_in_every_browser(chat_env):
    laptop = new_chat_app()
    laptop.user = ADA
    laptop.run()
    ask(laptop, "/echo from the laptop")
    phone = new_chat_app()  # another browser, another cookie, the same account
    phone.user = ADA
    phone.run()
    assert browser_of(phone) != browser_of(laptop)
    assert chat_titles(phone) == ["/echo from the laptop"]
    assert phone.session_state["chat"].owner == "user:https://idp.example|ada-1815"
    assert any("Ada Lovelace" in c.value for c in phone.sidebar.caption)
    assert "Log out" in labels(phone)

    anonymous = new_chat_app(browser_of(laptop))  # the same browser, logged out
    assert chat_titles(anonymous) == []


def test_log_out_leaves_the_account_and_its_chats(chat_env):
    at = new_chat_app()
    at.user = ADA
    at.run()
    ask(at, "/echo account chat")
    at.button(key="logout").click().run()
    assert not at.exception
    assert at.user == {"is_logged_in": False}
    assert "Log out" not in labels(at)
    assert chat_titles(at) == []
    assert at.session_state["chat"].owner == f"browser:{browser_of(at)}"


def test_log_in_is_offered_only_when_the_owner_configured_it(chat_env):
    plain = new_chat_app()
    assert "Log in" not in labels(plain)

    at = new_chat_app()
    at.secrets["auth"] = {
        "redirect_uri": "http://localhost:8501/oauth2callback",
        "cookie_secret": "test-cookie-secret",
        "client_id": "id",
        "client_secret": "secret",
        "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration",
    }
    at.user = {"is_logged_in": False}
    at.run()
    assert "Log in" in labels(at)
    assert "Log out" not in labels(at)


@pytest.fixture
def stub_url():
    with serve_app(create_app(tokens_per_second=2000)) as url:
        yield url


def test_past_the_visitor_budget_nothing_is_sent_upstream(chat_env, monkeypatch, stub_url):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-owner")
    monkeypatch.setenv("OPENAI_BASE_URL", stub_url + "/v1")
    monkeypatch.setenv("CHAT_MODEL", "gpt-test")
    monkeypatch.setenv("CHAT_VISITOR_BUDGET", "1/0")
    at = new_chat_app()
    session = ask(at, "/echo first")
    assert session.turns[-1].content == "first"
    before = httpx.get(stub_url + "/_stub/stats").json()
    assert before["streams_started"] == 1

    session = ask(at, "/echo second")
    assert "1 requests per hour" in at.warning[0].value and "resets at" in at.warning[0].value
    assert [t.content for t in session.turns] == ["/echo first", "first"]  # nothing stored
    after = httpx.get(stub_url + "/_stub/stats").json()
    assert after["streams_started"] == 1 and after["requests"] == before["requests"]

    # Regenerate goes through the same budget: an error answer, still nothing upstream.
    at.button(key="regenerate").click().run()
    session = at.session_state["chat"]
    assert session.turns[-1].error is not None and session.turns[-1].error.code == "rate_limit"
    assert httpx.get(stub_url + "/_stub/stats").json()["streams_started"] == 1

    # Another browser has its own budget.
    other = new_chat_app()
    assert ask(other, "/echo third").turns[-1].content == "third"


def test_the_budget_does_not_apply_to_the_offline_model(chat_env, monkeypatch):
    monkeypatch.setenv("CHAT_VISITOR_BUDGET", "1/0")
    at = new_chat_app()
    ask(at, "/echo one")
    session = ask(at, "/echo two")
    assert session.turns[-1].content == "two" and not at.warning


def test_a_visitors_own_key_is_not_budgeted(chat_env, monkeypatch, stub_url):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-owner")
    monkeypatch.setenv("OPENAI_BASE_URL", stub_url + "/v1")
    monkeypatch.setenv("CHAT_MODEL", "gpt-test")
    monkeypatch.setenv("CHAT_VISITOR_BUDGET", "1/0")
    at = new_chat_app()
    [key] = [t for t in at.sidebar.text_input if t.label == "OpenAI API key"]
    key.input("sk-visitor-own").run()
    ask(at, "/echo one")
    session = ask(at, "/echo two")
    assert session.turns[-1].content == "two" and not at.warning
    assert httpx.get(stub_url + "/_stub/stats").json()["streams_started"] == 2
