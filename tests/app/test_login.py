"""Logging in on the chat page: login required, a refused login, the browser's chats at login.

``st.user`` is set by hand here (AppTest has no provider); the whole round trip through a
real OpenID Connect provider is in ``tests/e2e/test_login.py``.
"""

from datetime import UTC, datetime

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from chat_core import ChatStore
from chat_core.chat.login import KEPT_PREF, LOGIN_STARTED_PREF, login_started
from tests.app.conftest import ROOT, browser_of, new_chat_app
from tests.app.test_identity import ADA, ask, chat_titles

pytestmark = pytest.mark.app

AUTH = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "test-cookie-secret",
    "client_id": "id",
    "client_secret": "secret",
    "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration",
}


def visit(browser=None, *, user=None, auth=True) -> AppTest:
    """A new session of the chat page in ``browser``, logged in as ``user`` or not."""
    at = AppTest.from_file(str(ROOT / "app_pages" / "chat.py"), default_timeout=30)
    if browser is not None:
        at.session_state["browser_token"] = browser
    if auth:
        at.secrets["auth"] = AUTH
    at.user = user or {"is_logged_in": False}
    at.run()
    assert not at.exception, at.exception
    return at


def texts(at) -> str:
    parts = [*at.markdown, *at.warning, *at.error, *at.success, *at.info]
    return "\n".join(p.value for p in parts)


def buttons(at) -> list[str]:
    return [b.label for b in at.button]


@pytest.fixture
def store(chat_env):
    """The page's database, opened beside it (as another process would)."""
    opened = ChatStore(f"sqlite:///{chat_env / 'chats.sqlite3'}")
    yield opened
    opened.close()


# -- CHAT_REQUIRE_LOGIN ------------------------------------------------------------------------


def test_login_required_shows_an_anonymous_visitor_only_log_in(chat_env, monkeypatch):
    earlier = new_chat_app()
    ask(earlier, "/echo made before login was required")
    monkeypatch.setenv("CHAT_REQUIRE_LOGIN", "1")

    at = visit(browser_of(earlier))
    assert not at.chat_input  # nothing to type into
    assert chat_titles(at) == []  # not even this browser's own chats
    assert buttons(at) == ["Log in"]
    assert "Log in to see your chats" in texts(at)
    assert not at.sidebar.text_input  # no settings: no key, no endpoint to try

    member = visit(user=ADA)
    assert member.chat_input
    assert ask(member, "/echo hello member").turns[-1].content == "hello member"


def test_login_required_without_auth_is_the_owners_error_not_a_crash(chat_env, monkeypatch):
    monkeypatch.setenv("CHAT_REQUIRE_LOGIN", "true")
    at = visit(auth=False)
    assert not at.chat_input and not buttons(at)
    [error] = at.error
    assert "CHAT_REQUIRE_LOGIN" in error.value and "[auth]" in error.value


def test_without_the_setting_anonymous_visitors_chat_as_before(chat_env):
    at = visit()
    assert at.chat_input and "Log in" in [b.label for b in at.sidebar.button]


def test_a_misconfigured_login_says_so_instead_of_a_traceback(chat_env, monkeypatch):
    monkeypatch.setenv("CHAT_REQUIRE_LOGIN", "1")
    at = AppTest.from_file(str(ROOT / "app_pages" / "chat.py"), default_timeout=30)
    at.secrets["auth"] = {k: v for k, v in AUTH.items() if k != "client_id"}
    at.user = {"is_logged_in": False}
    at.run()
    at.button(key="login").click().run()
    assert not at.exception, at.exception
    assert "Login is not set up correctly" in at.error[0].value
    assert not at.chat_input
    assert "refused" not in texts(visit(browser_of(at)))  # no login started, none refused


# -- a login that came back refused ------------------------------------------------------------


def test_a_refused_login_is_explained_once(chat_env, store):
    browser = browser_of(visit())
    store.set_pref(f"browser:{browser}", LOGIN_STARTED_PREF, login_started(datetime.now(UTC)))

    back = visit(browser)  # the provider sent the tab home without a login
    assert "refused the login or it was cancelled" in back.warning[0].value
    back.run()  # the same session keeps saying it
    assert "refused the login" in back.warning[0].value
    assert back.chat_input  # login is not required: chatting goes on

    again = visit(browser)  # a later visit is no login's return
    assert not again.warning


def test_a_refused_login_is_explained_behind_the_gate_too(chat_env, store, monkeypatch):
    monkeypatch.setenv("CHAT_REQUIRE_LOGIN", "1")
    browser = browser_of(visit())
    store.set_pref(f"browser:{browser}", LOGIN_STARTED_PREF, login_started(datetime.now(UTC)))
    back = visit(browser)
    assert "refused the login" in back.warning[0].value
    assert buttons(back) == ["Log in"]


def test_a_successful_login_says_nothing_about_refusal(chat_env, store):
    browser = browser_of(visit())
    store.set_pref(f"browser:{browser}", LOGIN_STARTED_PREF, login_started(datetime.now(UTC)))
    at = visit(browser, user=ADA)
    assert not at.warning
    assert store.get_pref(f"browser:{browser}", LOGIN_STARTED_PREF) is None  # read once


# -- this browser's chats at login -------------------------------------------------------------


def test_at_login_the_browsers_chats_can_move_into_the_account(chat_env, store):
    anonymous = visit()
    ask(anonymous, "/echo drafted before login")
    browser = browser_of(anonymous)
    ask(visit(browser), "/echo second draft")  # a new session starts a new chat

    at = visit(browser, user=ADA)
    assert chat_titles(at) == []  # the account has none yet
    assert "This browser has 2 chats from before you logged in" in texts(at)
    at.button(key="move-chats").click().run()
    assert "Moved 2 chats from this browser into your account." in texts(at)
    assert sorted(chat_titles(at)) == ["/echo drafted before login", "/echo second draft"]
    assert not [b for b in at.button if b.key == "move-chats"]

    elsewhere = visit(user=ADA)  # another browser, the same account
    assert sorted(chat_titles(elsewhere)) == ["/echo drafted before login", "/echo second draft"]
    assert chat_titles(visit(browser)) == []  # logged out: the browser has none left


def test_kept_chats_stay_with_the_browser_and_are_not_offered_again(chat_env, store):
    anonymous = visit()
    ask(anonymous, "/echo stays here")
    browser = browser_of(anonymous)

    at = visit(browser, user=ADA)
    at.button(key="keep-chats").click().run()
    assert "The chat stays with this browser" in texts(at)
    assert chat_titles(at) == []
    assert store.get_pref(f"browser:{browser}", KEPT_PREF) is not None

    assert "from before you logged in" not in texts(visit(browser, user=ADA))
    assert chat_titles(visit(browser)) == ["/echo stays here"]  # back after logging out

    # A newer chat in the browser: the next login offers them all again.
    ask(visit(browser), "/echo made later")
    assert "This browser has 2 chats" in texts(visit(browser, user=ADA))


def test_no_offer_without_browser_chats_or_with_shared_history(chat_env, monkeypatch):
    assert "from before you logged in" not in texts(visit(user=ADA))
    monkeypatch.setenv("CHAT_SHARED_HISTORY", "1")
    anonymous = visit()
    ask(anonymous, "/echo shared by all")
    at = visit(browser_of(anonymous), user=ADA)
    assert "from before you logged in" not in texts(at)
    assert chat_titles(at) == ["/echo shared by all"]


def test_login_required_hides_the_other_pages_from_anonymous_visitors(chat_env, monkeypatch):
    def pages(user):
        at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=30)
        at.secrets["auth"] = AUTH
        at.user = user
        at.run()
        assert not at.exception, at.exception
        return at

    # Without [auth] st.user has no is_logged_in at all: every page is there, as before.
    plain = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=30).run()
    assert not plain.exception, plain.exception
    plain.switch_page("app_pages/diagnostics.py").run()
    assert not plain.exception and plain.title[0].value != "Streaming chat"
    st.cache_resource.clear()

    monkeypatch.setenv("CHAT_REQUIRE_LOGIN", "1")
    anonymous = pages({"is_logged_in": False})
    assert not anonymous.chat_input and [b.label for b in anonymous.button] == ["Log in"]
    with pytest.raises(Exception, match="diagnostics"):
        anonymous.switch_page("app_pages/diagnostics.py").run()
    st.cache_resource.clear()
    member = pages(ADA)
    member.switch_page("app_pages/diagnostics.py").run()
    assert not member.exception and member.title[0].value != "Streaming chat"
