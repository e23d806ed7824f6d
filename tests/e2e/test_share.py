"""Share links in a real browser: two profiles, a link, read-only and inert, Continue, revoke.

A browser context is a browser profile (its own cookies). Alice shares from the chat's
menu; Bob, in another profile, opens the link, reads it and continues it in his own
chats; revoking, deleting the chat and expiry all leave the same "not available" page.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Browser, Locator, Page, expect
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

from chat_core import ChatStore
from chat_core.sharing import NOT_AVAILABLE, ShareOptions, share_chat
from tests.e2e.harness import WAIT_MS, ChatPage, Server, profile
from tests.support.recorder import Recorder, recording

pytestmark = pytest.mark.e2e

SIDEBAR_CHATS = '[data-testid="stSidebar"] [class*="st-key-conv-"]'
GIF = bytes.fromhex(
    "47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b"
)


@pytest.fixture
def image_host() -> Iterator[Recorder]:
    """A loopback listener that serves a pixel for any path and notes every request."""

    async def pixel(request):
        return Response(GIF, media_type="image/gif")

    with recording(Starlette(routes=[Route("/{path:path}", pixel)])) as recorder:
        yield recorder


def say(page: Page, url: str, prompt: str) -> ChatPage:
    chat = ChatPage(page).open(url)
    chat.send(prompt)
    chat.wait_idle(answers=1)
    return chat


def settle(page: Page) -> None:
    """Until the script is not running: the run after an answer re-keys the chat's menu."""
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]')


def share_menu(chat: ChatPage) -> Locator:
    """The chat's menu with its Share section open."""
    settle(chat.page)
    chat.sidebar().get_by_role("button", name="This chat").click()
    popover = chat.page.get_by_test_id("stPopoverBody")
    share = popover.get_by_test_id("stExpander").filter(has_text="Share")
    if not share.get_by_role("button", name="Create link").is_visible():
        share.locator("summary").click()
    expect(share.get_by_role("button", name="Create link")).to_be_visible()
    return share


def create_link(chat: ChatPage) -> str:
    """Make a link in the chat's menu (default expiry, no ticks); returns the link shown."""
    share = share_menu(chat)
    codes = share.get_by_test_id("stCode")
    before = codes.count()
    share.get_by_role("button", name="Create link").click()
    expect(codes).to_have_count(before + 1)
    link = codes.first.inner_text().strip()  # the chat's links, newest first
    chat.page.keyboard.press("Escape")  # the menu closes
    return link


def identity_cookies(page: Page) -> list[str]:
    return [c["value"] for c in page.context.cookies() if c["name"] == "chat_identity"]


def open_link(page: Page, link: str) -> Locator:
    """Open a shared link; returns the main area once the page has drawn."""
    page.goto(link)
    main = page.get_by_test_id("stMain")
    expect(main.get_by_text(re.compile(r"Shared on|not available"))).to_be_visible()
    return main


def test_share_read_continue_revoke_and_delete(browser: Browser, app_server: Server) -> None:
    with profile(browser) as alice, profile(browser) as bob:
        other = say(alice, app_server.url, "/echo alice's other secret chat")
        other.sidebar().get_by_role("button", name="New chat").click()
        alice_chat = say(alice, app_server.url, "/echo shared words")
        alice_chat.send("/echo second answer")
        alice_chat.wait_idle(answers=2)
        link = create_link(alice_chat)
        assert link.startswith(f"{app_server.url}/shared?t=")

        main = open_link(bob, link)
        expect(main.get_by_text("second answer", exact=True)).to_be_visible()
        expect(
            main.get_by_text(re.compile(r"Streaming chat · Shared on \d+ \w+ \d{4}"))
        ).to_be_visible()
        expect(bob.get_by_placeholder("Ask anything")).to_have_count(0)  # read-only
        expect(bob.locator(SIDEBAR_CHATS)).to_have_count(0)  # nobody's chat list
        expect(bob.get_by_text("other secret chat")).to_have_count(0)
        expect(bob.get_by_role("button", name="This chat", exact=True)).to_have_count(0)
        robots = bob.locator('head meta[name="robots"]')
        expect(robots).to_have_attribute("content", re.compile("noindex"))
        assert identity_cookies(bob) == []  # the shared page never sets an identity

        bob.get_by_role("button", name="Continue this chat").click()
        bob_chat = ChatPage(bob)
        bob_chat.input.wait_for(timeout=WAIT_MS)
        expect(bob).to_have_url(re.compile(r"[?&]c=[\w-]{16,}"))
        assert "t=" not in bob.url
        expect(bob_chat.answers).to_have_count(2)
        bob_chat.send("/echo bob goes on")
        bob_chat.wait_idle(answers=3)
        expect(bob.locator(SIDEBAR_CHATS)).to_have_count(1)  # his copy, his only chat
        expect(bob.locator(SIDEBAR_CHATS).get_by_text("other secret chat")).to_have_count(0)
        assert identity_cookies(bob) and identity_cookies(bob) != identity_cookies(alice)

        alice.reload()
        ChatPage(alice).input.wait_for(timeout=WAIT_MS)
        expect(ChatPage(alice).answers).to_have_count(2)  # Bob's turn is in his copy only
        expect(alice.get_by_text("bob goes on")).to_have_count(0)

        # Alice revokes: Bob's reload shows not available.
        share = share_menu(ChatPage(alice))
        share.get_by_role("button", name="Revoke").click()
        expect(share.get_by_role("button", name="Revoke")).to_have_count(0)
        alice.keyboard.press("Escape")
        main = open_link(bob, link)
        expect(main.get_by_text(NOT_AVAILABLE)).to_be_visible()

        # Another link, then Alice deletes the chat: that link dies too.
        second = create_link(ChatPage(alice))
        expect(open_link(bob, second).get_by_text("shared words", exact=True)).to_be_visible()
        ChatPage(alice).sidebar().get_by_role("button", name="This chat").click()
        popover = alice.get_by_test_id("stPopoverBody")
        popover.get_by_text("Delete this chat").click()
        popover.get_by_role("button", name="Delete for good").click()
        expect(ChatPage(alice).answers).to_have_count(0)
        main = open_link(bob, second)
        expect(main.get_by_text(NOT_AVAILABLE)).to_be_visible()
        expect(main.get_by_role("button", name="Continue this chat")).to_have_count(0)


def test_an_expired_link_shows_the_same_page_as_a_guessed_one(
    browser: Browser, app_server: Server
) -> None:
    database = app_server.log_path.parent / "chats.sqlite3"  # the app's CHAT_DB_PATH
    with profile(browser) as alice, profile(browser) as bob:
        say(alice, app_server.url, "/echo soon gone")
        conversation_id = re.search(r"[?&]c=([\w-]+)", alice.url)[1]
        owner = f"browser:{identity_cookies(alice)[0]}"
        with ChatStore(database) as store:  # made 8 days ago for 7: the clock moved past it
            long_ago = datetime.now(UTC) - timedelta(days=8)
            expired = share_chat(
                store,
                owner,
                conversation_id,
                ShareOptions(),
                expiry="7 days",
                app="x",
                now=long_ago,
            )
            live = share_chat(
                store,
                owner,
                conversation_id,
                ShareOptions(),
                expiry="1 day",
                app="x",
                now=datetime.now(UTC),
            )
        url = f"{app_server.url}/shared?t="
        expect(open_link(bob, url + live).get_by_text("soon gone", exact=True)).to_be_visible()
        pages = []
        for token in (expired, live[:-1], "A" * 43, "%3Cscript%3E"):
            main = open_link(bob, url + token)
            expect(main.get_by_text(NOT_AVAILABLE)).to_be_visible()
            expect(main.get_by_text("Go to the chat")).to_be_visible()  # the page's last line
            pages.append(main.inner_text())
        assert len(set(pages)) == 1, pages
        assert "soon gone" not in pages[0]
        log = app_server.log_tail(200_000)
        assert "Traceback" not in log and "Error" not in log
        assert not any(t in log for t in (expired, live, live[:-1]))  # never a token


def test_a_shared_answer_is_inert_and_its_images_are_never_fetched(
    browser: Browser, app_server: Server, image_host: Recorder
) -> None:
    payload = (
        "Look:\n\n<script>window.__pwned = 'script'</script>\n\n"
        f'<img src="{image_host.url}/raw.png" onerror="window.__pwned = \'img\'">\n\n'
        f"![pixel]({image_host.url}/markdown.png)\n\nThe end."
    )
    with profile(browser) as alice, profile(browser) as bob:
        link = create_link(say(alice, app_server.url, f"/echo {payload}"))
        main = open_link(bob, link)
        expect(main.get_by_text("The end.").last).to_be_visible()
        expect(main.get_by_text("<script>window.__pwned = 'script'</script>").last).to_be_visible()
        expect(main.get_by_text(re.compile(r"!\[pixel\]")).last).to_be_visible()
        bob.get_by_role("button", name="Continue this chat").wait_for()
        assert bob.evaluate("() => window.__pwned") is None, "a script from the snapshot ran"
        tags = ("script", "iframe", "img[onerror]", f'img[src*="{image_host.url}"]')
        active = main.locator(", ".join(f'[data-testid="stChatMessage"] {t}' for t in tags))
        assert active.count() == 0, active.first.evaluate("e => e.outerHTML")
        assert image_host.seen == [], [s.path for s in image_host.seen]
        # The control: the listener does see an image this browser really loads.
        load = (
            "u => new Promise(r => { const i = new Image(); i.onload = i.onerror = r; i.src = u; })"
        )
        bob.evaluate(load, f"{image_host.url}/control.png")
        assert [s.path for s in image_host.seen] == ["/control.png"]
