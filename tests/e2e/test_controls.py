"""Clicks while an answer streams or after it fails: Stop, a sidebar widget, Retry."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from chat_core.backends.offline import tokenize
from tests.e2e.harness import METRICS, ChatPage

pytestmark = pytest.mark.e2e

ERROR_ALERT = '[data-testid="stAlertContentError"]'


def words(n: int) -> str:
    return " ".join(f"w{i}" for i in range(n))


def wait_for_streamed(chat: ChatPage, text: str) -> None:
    chat.page.wait_for_function(
        "t => (document.querySelector('.st-key-streaming-answer')?.innerText || '').includes(t)",
        arg=text,
    )


def test_stop_keeps_the_partial_answer_marked_stopped(chat: ChatPage) -> None:
    # 12 tokens, then a long stall: Stop lands mid-answer however slow the machine is.
    chat.send(f"/stall 120 after 12\n/echo {words(40)}")
    wait_for_streamed(chat, "w11")

    chat.button("stop").click()

    chat.wait_idle(answers=1)
    answer = chat.answers.last
    expect(answer).to_contain_text("w0 w1 w2")
    expect(answer).to_contain_text("w11")
    expect(answer).not_to_contain_text("w12")
    expect(answer.locator('[data-testid="stCaptionContainer"]')).to_contain_text("stopped")
    expect(chat.button("retry")).to_be_visible()
    expect(chat.button("continue")).to_be_visible()


def test_sidebar_widgets_used_mid_answer_do_not_lose_it(chat: ChatPage) -> None:
    echo = f"{words(50)} the-end"
    chat.send(f"/stall 8 after 8\n/echo {echo}")
    wait_for_streamed(chat, "w7")

    # Each change reruns the page script while the answer streams.
    chat.open_settings()
    temperature = chat.page.get_by_test_id("stSlider").filter(has_text="Temperature")
    slider = temperature.get_by_role("slider")
    slider.focus()
    slider.press("ArrowRight")
    expect(temperature.get_by_test_id("stSliderThumbValue").first).to_have_text("0.80")
    # The model picker lists the back end's models and accepts a new name.
    chat.page.get_by_test_id("stSelectbox").filter(has_text="Model").click()
    chat.page.keyboard.type("offline-renamed")
    chat.page.keyboard.press("Enter")
    expect(
        chat.page.get_by_test_id("stCaptionContainer").filter(has_text="Back end")
    ).to_contain_text("model offline-renamed")
    # Still mid-answer (the stall): otherwise this test proves nothing.
    assert chat.streaming_text() is not None, "the answer finished before the widgets were used"
    expect(chat.streaming).to_contain_text("w7")

    chat.wait_idle(answers=1)
    expect(chat.answers).to_have_count(1)
    expect(chat.user_messages).to_have_count(1)
    answer = chat.answers.last
    expect(answer).to_contain_text(echo)
    caption = answer.locator('[data-testid="stCaptionContainer"]')
    expect(caption).to_have_text(METRICS)
    expect(caption).to_contain_text(f"· {len(tokenize(echo))} tokens")
    for badge in ("stopped", "interrupted", "failed"):
        expect(caption).not_to_contain_text(badge)


def test_error_is_shown_and_retry_answers(chat: ChatPage) -> None:
    # "times 1": the first try fails after 4 tokens, the retry succeeds.
    chat.send("/error server after 4 times 1\nPlease explain streaming")

    chat.wait_idle(answers=1)
    expect(chat.page.locator(ERROR_ALERT)).to_contain_text("model server failed")
    expect(chat.answers.last.locator('[data-testid="stCaptionContainer"]')).to_contain_text(
        "failed"
    )

    chat.button("retry").click()

    expect(chat.page.locator(ERROR_ALERT)).to_have_count(0)
    chat.wait_idle(answers=1)
    expect(chat.answers).to_have_count(1)
    answer = chat.answers.last
    expect(answer).to_contain_text("Please explain streaming")
    expect(answer.locator('[data-testid="stCaptionContainer"]')).to_have_text(METRICS)
    expect(answer).not_to_contain_text("failed")
