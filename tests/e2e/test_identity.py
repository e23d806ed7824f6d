"""Private chats in a real browser: two profiles apart; one profile keeps its chats.

A browser context is a browser profile: its own cookies and storage. The app
keeps each profile's identity in a cookie, so nothing but the cookie (not the
URL) brings a chat list back.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from app_pages.identity import cookie_script
from chat_core import new_browser_token
from tests.e2e.harness import WAIT_MS, ChatPage, Server, openai_stub, profile, streamlit_app

pytestmark = pytest.mark.e2e

SIDEBAR_CHATS = '[data-testid="stSidebar"] [class*="st-key-conv-"]'


def identity_cookie(page: Page) -> str:
    """The identity the page stored in this profile (waits for the page's script)."""
    page.wait_for_function("() => document.cookie.includes('chat_identity=')", timeout=WAIT_MS)
    cookies = {c["name"]: c for c in page.context.cookies()}
    cookie = cookies["chat_identity"]
    assert cookie["sameSite"] == "Lax" and cookie["path"] == "/"
    return cookie["value"]


def chat_id(page: Page) -> str:
    expect(page).to_have_url(re.compile(r"[?&]c=[\w-]{16,}"))
    return re.search(r"[?&]c=([\w-]+)", page.url)[1]


def say(page: Page, url: str, prompt: str) -> ChatPage:
    chat = ChatPage(page).open(url)
    chat.send(prompt)
    chat.wait_idle(answers=1)
    return chat


def test_two_profiles_never_see_each_others_chats(browser: Browser, app_server: Server) -> None:
    with profile(browser) as alice, profile(browser) as bob:
        say(alice, app_server.url, "/echo alice private note")
        alice_url = alice.url
        alice_chat = chat_id(alice)
        alice_token = identity_cookie(alice)

        bob_chat = ChatPage(bob).open(app_server.url)
        expect(bob.locator(SIDEBAR_CHATS).get_by_text("alice private note")).to_have_count(0)
        bob_chat.send("/echo bob private note")
        bob_chat.wait_idle(answers=1)
        assert identity_cookie(bob) != alice_token
        expect(bob.locator(SIDEBAR_CHATS).get_by_text("/echo bob private note")).to_be_visible()

        # Bob opens the link Alice shared: an unknown chat to him, the parameter dropped.
        bob.goto(alice_url)
        bob_chat.input.wait_for()
        bob_chat.wait_idle()
        expect(bob.locator(SIDEBAR_CHATS).get_by_text("/echo bob private note")).to_be_visible()
        expect(bob).not_to_have_url(re.compile(re.escape(alice_chat)))
        expect(bob.get_by_text("alice private note")).to_have_count(0)
        expect(bob_chat.answers).to_have_count(0)

        # Alice's home page lists only hers.
        ChatPage(alice).open(app_server.url)
        expect(alice.locator(SIDEBAR_CHATS).get_by_text("/echo alice private note")).to_be_visible()
        expect(alice.locator(SIDEBAR_CHATS).get_by_text("bob private note")).to_have_count(0)


def test_a_profile_gets_its_chats_back_after_reload_and_restart(
    browser: Browser, tmp_path: Path
) -> None:
    title = "/echo kept by my cookie"
    with profile(browser) as page:
        with streamlit_app(tmp_path) as server:
            say(page, server.url, title)
            conversation = chat_id(page)
            token = identity_cookie(page)
            ChatPage(page).open(server.url)  # a reload of the home page: no ?c= in the URL
            expect(page.locator(SIDEBAR_CHATS).get_by_text(title)).to_be_visible()

        with streamlit_app(tmp_path) as server:  # a new app process on the same database
            chat = ChatPage(page).open(server.url)
            chats = page.locator(SIDEBAR_CHATS)
            expect(chats.get_by_text(title)).to_be_visible()
            expect(chats).to_have_count(1)
            chats.get_by_text(title).click()
            expect(chat.answers.last).to_contain_text("kept by my cookie")
            assert chat_id(page) == conversation
            assert identity_cookie(page) == token  # set once, not replaced


def test_the_first_prompt_past_the_budget_is_refused_and_never_sent(
    browser: Browser, tmp_path: Path
) -> None:
    with openai_stub(tmp_path / "stub") as stub:
        settings = {
            "OPENAI_API_KEY": "sk-owner-key",
            "OPENAI_BASE_URL": stub.url + "/v1",
            "CHAT_MODEL": "gpt-test",
            "CHAT_VISITOR_BUDGET": "1/0",
        }
        with streamlit_app(tmp_path / "app", **settings) as server, profile(browser) as page:
            chat = say(page, server.url, "/echo within the budget")
            expect(chat.answers.last).to_contain_text("within the budget")
            before = httpx.get(stub.url + "/_stub/stats").json()
            assert before["streams_started"] == 1

            chat.send("/echo past the budget")
            expect(page.get_by_text(re.compile(r"resets at \d\d:00 UTC"))).to_be_visible()
            chat.wait_idle()
            expect(chat.answers).to_have_count(1)
            after = httpx.get(stub.url + "/_stub/stats").json()
            assert after["streams_started"] == 1
            assert after["requests"] == before["requests"]


def stored(page: Page) -> str | None:
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    return cookies.get("chat_identity")


def run_cookie_script(page: Page, token: str) -> None:
    body = cookie_script(token).removeprefix("<script>").removesuffix("</script>")
    page.evaluate(f"() => {{ {body} }}")


def test_the_cookie_script_sets_once_and_defers_to_another_tabs_token(
    browser: Browser, app_server: Server
) -> None:
    mine, theirs = new_browser_token(), new_browser_token()
    with profile(browser) as page:
        page.goto(app_server.url + "/_stcore/health")  # the app's origin, no app session
        run_cookie_script(page, mine)
        assert stored(page) == mine
        cookie = next(c for c in page.context.cookies() if c["name"] == "chat_identity")
        assert cookie["expires"] > time.time() + 399 * 24 * 3600  # renewed for 400 days

        # Another tab of this browser stored its token first: this tab keeps it and reloads
        # once to use it; a second time it does not reload again.
        with page.expect_navigation():
            run_cookie_script(page, theirs)
        assert stored(page) == mine
        run_cookie_script(page, theirs)
        page.wait_for_timeout(300)
        assert stored(page) == mine

        # A damaged cookie is replaced.
        page.evaluate("document.cookie = 'chat_identity=broken; Path=/'")
        run_cookie_script(page, theirs)
        assert stored(page) == theirs
