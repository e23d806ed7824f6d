"""Issue 19's smaller list in the browser: the phone drawer, thoughts without "Waiting for
the model", "Copied" read out to screen readers, the Jump pill in the dark theme."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.harness import WAIT_MS, ChatPage, Server

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser: Browser, app_server: Server) -> Iterator[ChatPage]:
    context = browser.new_context(viewport=PHONE)
    context.set_default_timeout(WAIT_MS)
    yield ChatPage(context.new_page()).open(app_server.url)
    context.close()


def focused_testids(chat: ChatPage, presses: int) -> list[str]:
    """Where focus goes on each of the first ``presses`` Tab presses: the nearest test id."""
    chat.page.evaluate("() => document.activeElement?.blur()")
    seen = []
    for _ in range(presses):
        chat.page.keyboard.press("Tab")
        seen.append(
            chat.page.evaluate(
                """() => { let el = document.activeElement;
                    while (el && !el.dataset?.testid) el = el.parentElement;
                    const side = '[data-testid="stSidebar"]';
                    const inSidebar = !!document.activeElement?.closest(side);
                    return (inSidebar ? 'sidebar:' : '') + (el?.dataset.testid ?? 'none'); }"""
            )
        )
    return seen


def test_the_phone_drawer_closes_after_new_chat_and_is_no_tab_stop_when_closed(
    phone: ChatPage,
) -> None:
    drawer = phone.page.get_by_test_id("stSidebar")
    expect(drawer).not_to_be_in_viewport()
    stops = focused_testids(phone, 6)
    assert not [s for s in stops if s.startswith("sidebar:")], stops

    phone.send("/echo first chat")
    phone.wait_idle(answers=1)
    phone.sidebar().get_by_role("button", name="New chat").click()
    expect(phone.answers).to_have_count(0)
    expect(drawer).not_to_be_in_viewport()


def test_thoughts_streaming_are_not_waiting_for_the_model(chat: ChatPage) -> None:
    chat.send("/think 2\n/echo after the thoughts")
    thinking = chat.page.locator('[data-testid="stExpander"]').filter(has_text="Thinking")
    expect(thinking).to_be_visible()
    status = chat.page.locator(".st-key-answer-status")
    for _ in range(10):  # across the thinking, not one lucky moment
        if not thinking.is_visible():
            break
        assert "Waiting for the model" not in (status.inner_text() if status.count() else "")
        chat.page.wait_for_timeout(100)
    chat.wait_idle(answers=1)
    expect(chat.answers.last).to_contain_text("after the thoughts")


def test_copied_is_announced_to_screen_readers(browser: Browser, app_server: Server) -> None:
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    context.set_default_timeout(WAIT_MS)
    chat = ChatPage(context.new_page()).open(app_server.url)
    chat.send("/echo copy me")
    chat.wait_idle(answers=1)
    chat.answers.last.locator("button[data-copy-from]").click()
    announcer = chat.page.locator('#chat-announcer[aria-live="polite"]')
    expect(announcer).to_have_text("Copied to the clipboard")
    context.close()


def test_the_jump_pill_takes_the_dark_theme(browser: Browser, app_server: Server) -> None:
    context = browser.new_context(color_scheme="dark", viewport={"width": 1280, "height": 700})
    context.set_default_timeout(WAIT_MS)
    chat = ChatPage(context.new_page()).open(app_server.url)
    chat.send("/lorem 400")
    chat.wait_idle(answers=1)
    main = chat.page.get_by_test_id("stMain")
    box = main.bounding_box()
    chat.page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    chat.page.mouse.wheel(0, -1500)
    jump = chat.page.locator("#chat-jump-to-bottom")
    expect(jump).to_be_visible()
    colours = chat.page.wait_for_function(
        """() => { const b = getComputedStyle(document.getElementById('chat-jump-to-bottom'));
            const a = getComputedStyle(document.querySelector('[data-testid="stApp"]'));
            return b.backgroundColor === a.backgroundColor
                && [b.backgroundColor, a.backgroundColor]; }"""
    ).json_value()
    background = [int(x) for x in colours[0].strip("rgba()").split(",")[:3]]
    assert sum(background) < 3 * 80, f"the pill is not dark in the dark theme: {colours}"
    context.close()


def test_back_returns_to_the_previous_chat(chat: ChatPage) -> None:
    chat.send("/echo the first chat")
    chat.wait_idle(answers=1)
    chat.sidebar().get_by_role("button", name="New chat").click()
    expect(chat.answers).to_have_count(0)
    chat.send("/echo the second chat")
    chat.wait_idle(answers=1)
    expect(chat.answers.last).to_contain_text("the second chat")
    first = (
        chat.sidebar().locator('[class*="st-key-conv-"] button').filter(has_text="the first chat")
    )
    first.click()
    expect(chat.answers.last).to_contain_text("the first chat")

    chat.page.go_back()
    expect(chat.answers.last).to_contain_text("the second chat")
    chat.page.go_forward()
    expect(chat.answers.last).to_contain_text("the first chat")


def test_the_phone_drawer_closes_after_an_import(phone: ChatPage, tmp_path) -> None:
    export = {
        "format": "streaming-chat/conversation",
        "version": 1,
        "title": "An imported chat",
        "messages": [
            {"role": "user", "content": "imported question"},
            {"role": "assistant", "content": "imported answer"},
        ],
    }
    path = tmp_path / "chat.json"
    path.write_text(json.dumps(export))
    sidebar = phone.sidebar()
    sidebar.get_by_test_id("stExpander").filter(has_text="Import a chat").locator("summary").click()
    sidebar.locator(".st-key-import_file input[type=file]").set_input_files(path)
    expect(phone.answers.last).to_contain_text("imported answer")
    expect(phone.page.get_by_test_id("stSidebar")).not_to_be_in_viewport()
