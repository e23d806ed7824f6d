"""Never lose what was typed (issue 19, item 4): focus stays in the input across send,
answer end, Stop and Esc; typing while an answer streams is kept; a prompt sent from a
second tab while the first tab's answer streams comes back into the input, explained."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.harness import ChatPage, Server

pytestmark = pytest.mark.e2e

SLOW = "/stall 30 after 3\n/echo one two three four five six"  # Stop ends it long before


def input_has_focus(chat: ChatPage) -> bool:
    return chat.page.evaluate(
        "() => document.activeElement?.dataset?.testid === 'stChatInputTextArea'"
    )


def expect_focus(chat: ChatPage) -> None:
    chat.page.wait_for_function(
        "() => document.activeElement?.dataset?.testid === 'stChatInputTextArea'"
    )


def test_focus_stays_in_the_input_across_send_answer_end_and_stop(chat: ChatPage) -> None:
    chat.input.click()
    chat.send("/stall 2 after 3\n/echo one two three four five")
    chat.wait_streaming()
    expect(chat.input).to_be_enabled()  # the input is never locked while streaming
    expect_focus(chat)
    chat.page.keyboard.type("typed while it streams")  # kept: only sending waits
    chat.wait_idle(answers=1)
    expect_focus(chat)
    expect(chat.input).to_have_value("typed while it streams")

    chat.send(SLOW)
    chat.wait_streaming()
    chat.button("stop").click()
    chat.wait_idle(answers=2)
    expect_focus(chat)

    chat.send(SLOW)
    chat.wait_streaming()
    chat.input.press("Escape")
    chat.wait_idle(answers=3)
    expect_focus(chat)
    assert input_has_focus(chat)


def test_a_prompt_sent_while_another_tab_answers_is_kept_and_explained(
    chat: ChatPage, page: Page, app_server: Server
) -> None:
    chat.send("/echo first")
    chat.wait_idle(answers=1)
    url = page.url  # names the chat (?c=...)
    assert "c=" in url
    second = ChatPage(page.context.new_page()).open(url)
    expect(second.answers).to_have_count(1)

    chat.send(SLOW)
    chat.wait_streaming()
    second.send("my question from the second tab")
    warning = second.page.get_by_test_id("stAlert").filter(has_text="Not sent")
    expect(warning).to_contain_text("another tab")
    expect(second.input).to_have_value("my question from the second tab")
    expect(second.user_messages.filter(has_text="my question from the second tab")).to_have_count(0)
    chat.button("stop").click()
    chat.wait_idle(answers=2)
    second.page.close()
