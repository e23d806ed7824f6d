"""Logging in for real: Chromium, ``streamlit run``, and a real OpenID Connect provider.

The provider (``tests/support/oidc.py``) runs the whole authorization code flow; the app's
``[auth]`` section points at it. Each browser profile has its own cookies, as two
people's browsers would.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.harness import ChatPage, Server, clean_env, streamlit_app
from tests.e2e.test_identity import SIDEBAR_CHATS, profile, say
from tests.support.oidc import auth_secrets, oidc_provider

pytestmark = pytest.mark.e2e

ALICE = {"sub": "alice", "name": "Alice Example", "email": "alice@example.com"}
BOB = {"sub": "bob", "name": "Bob Example", "email": "bob@example.com"}


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with oidc_provider(tmp_path_factory.mktemp("oidc"), [ALICE, BOB], clean_env()) as server:
        yield server


def app_with_login(workdir: Path, provider: Server, **settings: str):
    """The app with Streamlit's login pointed at ``provider``."""
    (workdir / ".streamlit").mkdir(parents=True, exist_ok=True)
    (workdir / ".streamlit" / "secrets.toml").write_text(auth_secrets(provider))
    return streamlit_app(workdir, **settings)


@pytest.fixture(scope="module")
def login_app(tmp_path_factory: pytest.TempPathFactory, provider: Server) -> Iterator[Server]:
    with app_with_login(tmp_path_factory.mktemp("login-app"), provider) as server:
        yield server


def chats(page: Page):
    return page.locator(SIDEBAR_CHATS)


def log_in(page: Page, user: dict[str, str]) -> None:
    """Log in, pick ``user`` on the provider's page, and wait to be back, logged in."""
    page.locator(".st-key-login button").click()
    page.wait_for_url(re.compile(r"/oauth2/authorize"))
    page.get_by_role("button", name=user["sub"], exact=True).click()
    expect(page.locator(".st-key-logout button")).to_be_visible()
    expect(page.get_by_test_id("stSidebar")).to_contain_text(user["name"])
    ChatPage(page).wait_idle()


def log_out(page: Page) -> None:
    """Log out; the provider asks to end its session too (OIDC RP-initiated logout)."""
    page.locator(".st-key-logout button").click()
    page.wait_for_url(re.compile(r"/oauth2/end_session"))
    page.get_by_role("button", name="End session").click()
    expect(page.locator(".st-key-login button")).to_be_visible()
    ChatPage(page).wait_idle()


def test_two_users_log_in_and_out_and_each_sees_only_their_chats(
    browser: Browser, login_app: Server
) -> None:
    with profile(browser) as laptop:
        say(laptop, login_app.url, "/echo drafted before logging in")

        # Logging in offers the browser's chat to the account; moved, it follows Alice.
        log_in(laptop, ALICE)
        offer = laptop.locator(".st-key-move-browser-chats")
        expect(offer).to_contain_text("This browser has 1 chat from before you logged in")
        expect(chats(laptop)).to_have_count(0)
        laptop.locator(".st-key-move-chats button").click()
        expect(
            laptop.get_by_text("Moved 1 chat from this browser into your account.")
        ).to_be_visible()
        expect(chats(laptop).get_by_text("/echo drafted before logging in")).to_be_visible()
        chat = ChatPage(laptop)
        chat.send("/echo alice only")
        chat.wait_idle(answers=1)
        expect(chats(laptop)).to_have_count(2)

        # Logged out, the browser is anonymous again and shows none of Alice's chats.
        log_out(laptop)
        expect(chats(laptop)).to_have_count(0)
        expect(laptop.get_by_text("alice only")).to_have_count(0)

        # Bob on the same browser: no offer (nothing left there), none of Alice's chats.
        log_in(laptop, BOB)
        expect(offer).to_have_count(0)
        expect(chats(laptop)).to_have_count(0)
        chat.send("/echo bob only")
        chat.wait_idle(answers=1)
        expect(chats(laptop).get_by_text("/echo bob only")).to_be_visible()
        log_out(laptop)

    with profile(browser) as phone:  # Alice's other browser
        ChatPage(phone).open(login_app.url)
        log_in(phone, ALICE)
        expect(chats(phone)).to_have_count(2)
        expect(chats(phone).get_by_text("/echo alice only")).to_be_visible()
        expect(chats(phone).get_by_text("/echo drafted before logging in")).to_be_visible()
        expect(chats(phone).get_by_text("bob only")).to_have_count(0)


def test_a_refused_login_comes_back_with_a_message(browser: Browser, login_app: Server) -> None:
    with profile(browser) as page:
        ChatPage(page).open(login_app.url)
        page.locator(".st-key-login button").click()
        page.wait_for_url(re.compile(r"/oauth2/authorize"))
        page.get_by_role("button", name="Deny").click()  # error=access_denied to the callback
        expect(page.get_by_text("refused the login or it was cancelled")).to_be_visible()
        expect(page.locator(".st-key-login button")).to_be_visible()
        ChatPage(page).wait_idle()


def test_with_login_required_an_anonymous_visitor_cannot_send_a_prompt(
    browser: Browser, provider: Server, tmp_path: Path
) -> None:
    with (
        app_with_login(tmp_path, provider, CHAT_REQUIRE_LOGIN="1") as app,
        profile(browser) as page,
    ):
        page.goto(app.url)
        gate = page.locator(".st-key-login button")
        expect(gate).to_be_visible()
        expect(page.get_by_text("Log in to see your chats and ask a question")).to_be_visible()
        expect(page.get_by_test_id("stChatInput")).to_have_count(0)
        expect(page.locator(SIDEBAR_CHATS)).to_have_count(0)

        # The other pages are not there before logging in: a direct link finds no page
        # (Streamlit says so in a dialog) and shows the gate.
        page.goto(app.url + "/diagnostics")
        expect(page.get_by_role("dialog")).to_contain_text("Page not found")
        page.keyboard.press("Escape")
        expect(page.get_by_role("dialog")).to_have_count(0)
        expect(gate).to_be_visible()
        expect(page.get_by_test_id("stChatInput")).to_have_count(0)
        expect(page.get_by_text("Stream diagnostics")).to_have_count(0)

        log_in(page, ALICE)
        chat = ChatPage(page)
        chat.send("/echo now I may ask")
        chat.wait_idle(answers=1)
        expect(chat.answers.last).to_contain_text("now I may ask")
        expect(page.get_by_test_id("stSidebarNav")).to_contain_text("Diagnostics")


def test_a_tab_left_open_stays_logged_in_until_reloaded(
    browser: Browser, login_app: Server
) -> None:
    # Streamlit's documented behaviour (st.logout), which the README and docs/security.md
    # repeat: a session reads the login cookie only when it starts.
    with profile(browser) as first:
        ChatPage(first).open(login_app.url)
        log_in(first, ALICE)
        second = first.context.new_page()  # another tab of the same browser
        ChatPage(second).open(login_app.url)
        expect(second.locator(".st-key-logout button")).to_be_visible()

        log_out(first)
        second.bring_to_front()
        tab = ChatPage(second)
        tab.send("/echo still Alice in this tab")  # reruns, and still chats as Alice
        tab.wait_idle(answers=1)
        expect(second.get_by_test_id("stSidebar")).to_contain_text(ALICE["name"])
        expect(chats(second).get_by_text("/echo still Alice in this tab")).to_be_visible()

        tab.open(login_app.url)  # a reload starts a new session: logged out
        expect(second.locator(".st-key-login button")).to_be_visible()
        expect(second.get_by_test_id("stSidebar")).not_to_contain_text(ALICE["name"])
        expect(chats(second)).to_have_count(0)
