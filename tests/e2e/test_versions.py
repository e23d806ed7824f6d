"""Versions and branches in the browser, at desktop and phone widths: regenerate keeps every
answer (‹ 1/3 › survives a reload), editing a prompt makes a branch the old turns come back
from, and "Branch in new chat" copies the path up to a message into a new chat."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.harness import ChatPage

pytestmark = pytest.mark.e2e

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(params=[DESKTOP, PHONE], ids=["desktop", "phone"])
def viewport(request: pytest.FixtureRequest) -> dict[str, int]:
    return request.param


def message_id(message: Locator) -> str:
    """The stored id of a message on screen, from its versions row's key."""
    row = message.locator('[class*="st-key-versions-"]').first
    found = re.search(r"st-key-versions-(\d+)", row.get_attribute("class") or "")
    assert found, "no versions row under the message"
    return found.group(1)


def no_exception(page: Page) -> None:
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)


def test_regenerate_twice_go_back_to_the_first_and_reload(chat: ChatPage) -> None:
    chat.send("/lorem 6")
    chat.wait_idle(answers=1)
    first = message_id(chat.answers.last)
    for shown in ("2/2", "3/3"):
        chat.button("regenerate").click()
        expect(chat.answers.last.get_by_text(shown, exact=True)).to_be_visible()
        chat.wait_idle(answers=1)
    answer = chat.answers.last
    previous = answer.get_by_role("button", name="Previous version")
    previous.focus()  # the keyboard reaches it, Enter presses it
    chat.page.keyboard.press("Enter")
    expect(chat.answers.last.get_by_text("2/3", exact=True)).to_be_visible()
    chat.answers.last.get_by_role("button", name="Previous version").click()
    expect(chat.answers.last.get_by_text("1/3", exact=True)).to_be_visible()
    expect(chat.answers.last.locator(f".st-key-versions-{first}")).to_have_count(1)
    expect(chat.answers.last.get_by_role("button", name="Previous version")).to_be_disabled()

    chat.page.reload()
    chat.wait_idle(answers=1)
    expect(chat.answers.last.get_by_text("1/3", exact=True)).to_be_visible()
    assert message_id(chat.answers.last) == first
    no_exception(chat.page)


def test_edit_the_first_prompt_then_the_old_branch_comes_back(chat: ChatPage) -> None:
    chat.send("/echo alpha")
    chat.wait_idle(answers=1)
    chat.send("/echo beta")
    chat.wait_idle(answers=2)
    chat.user_messages.first.get_by_role("button", name="Edit").click()
    chat.page.get_by_label("Your message").fill("/echo gamma")
    chat.page.get_by_role("button", name="Save and resend").click()
    chat.wait_idle(answers=1)
    expect(chat.answers).to_have_count(1)
    expect(chat.answers.last).to_contain_text("gamma")
    prompt = chat.user_messages.first
    expect(prompt.get_by_text("2/2", exact=True)).to_be_visible()

    prompt.get_by_role("button", name="Previous version").click()
    expect(chat.user_messages.first.get_by_text("1/2", exact=True)).to_be_visible()
    expect(chat.answers).to_have_count(2)
    expect(chat.answers.first).to_contain_text("alpha")
    expect(chat.answers.last).to_contain_text("beta")
    no_exception(chat.page)


def test_branch_in_new_chat_from_the_second_turn(chat: ChatPage) -> None:
    for n, word in enumerate(("one", "two", "three"), 1):
        chat.send(f"/echo {word}")
        chat.wait_idle(answers=n)
    before = chat.page.url
    second = chat.answers.nth(1)
    second.get_by_role("button", name="Branch in new chat").click()
    expect(chat.page).not_to_have_url(before)
    chat.wait_idle()
    expect(chat.answers).to_have_count(2)
    expect(chat.user_messages).to_have_count(2)
    expect(chat.answers.last).to_contain_text("two")
    sidebar = chat.sidebar()
    expect(sidebar.get_by_text(re.compile(r"^Fork of /echo one"))).to_be_visible()
    no_exception(chat.page)


def test_switching_while_an_answer_streams_leaves_it_streaming(chat: ChatPage) -> None:
    chat.send("/echo alpha")
    chat.wait_idle(answers=1)
    chat.user_messages.first.get_by_role("button", name="Edit").click()
    chat.page.get_by_label("Your message").fill("/stall 10 after 2\n/lorem 12")
    chat.page.get_by_role("button", name="Save and resend").click()
    chat.wait_streaming()  # two tokens, then a long pause: it is mid-answer

    chat.user_messages.first.get_by_role("button", name="Previous version").click()
    expect(chat.user_messages.first.get_by_text("1/2", exact=True)).to_be_visible()
    expect(chat.answers.last).to_contain_text("alpha")
    expect(chat.streaming).to_have_count(0)  # not shown here, and not stopped

    chat.user_messages.first.get_by_role("button", name="Next version").click()
    expect(chat.user_messages.first.get_by_text("2/2", exact=True)).to_be_visible()
    expect(chat.streaming).to_have_count(1)  # re-attached, still in its pause
    chat.wait_idle(answers=1)
    expect(chat.answers.last).not_to_contain_text("alpha")
    expect(chat.page.get_by_text("Stopped", exact=False)).to_have_count(0)
    no_exception(chat.page)


def test_the_json_export_holds_every_version(chat: ChatPage) -> None:
    chat.send("/echo exported")
    chat.wait_idle(answers=1)
    chat.button("regenerate").click()
    expect(chat.answers.last.get_by_text("2/2", exact=True)).to_be_visible()
    chat.wait_idle(answers=1)
    chat.sidebar().get_by_role("button", name="This chat").click()
    popover = chat.page.get_by_test_id("stPopoverBody")
    with chat.page.expect_download() as download:
        popover.get_by_role("button", name="JSON").click()
    data = json.loads(Path(download.value.path()).read_text())
    assert data["version"] == 2 and len(data["messages"]) == 3
    assert [m["parent"] for m in data["messages"]] == [None, 1, 1]  # two answers to one prompt
    assert data["active_leaf"] == 3
