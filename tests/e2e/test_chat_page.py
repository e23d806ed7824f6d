"""The chat page under real use, at desktop and phone widths: no stale controls, no crash,
an answer never frozen, Stop always at hand, scrolling that lets the user read.

Each test is one defect a new user hit (leftover clicks, old chrome under a new stream,
a doubled Continue, frozen answers after a switch or reload, Stop out of reach, no
waiting sign, ...). Slowness comes from ``/stall`` windows, never a low token rate.
"""

from __future__ import annotations

import random
import re
import string
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from chat_core import GenerationParams, OfflineBackend, TextDelta, build_conversation
from tests.e2e.harness import ChatPage, Server

pytestmark = pytest.mark.e2e

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
EXCEPTION = '[data-testid="stException"]'
ERROR_ALERT = '[data-testid="stAlertContentError"]'


@pytest.fixture(params=[DESKTOP, PHONE], ids=["desktop", "phone"])
def viewport(request: pytest.FixtureRequest) -> dict[str, int]:
    return request.param


def words(n: int, stem: str = "w") -> str:
    return " ".join(f"{stem}{i}" for i in range(n))


def streamed(chat: ChatPage, text: str) -> None:
    """Until the streaming answer shows ``text``."""
    chat.page.wait_for_function(
        "t => (document.querySelector('.st-key-streaming-answer')?.innerText || '').includes(t)",
        arg=text,
    )


def no_exception(page: Page) -> None:
    expect(page.locator(EXCEPTION)).to_have_count(0)
    expect(page.get_by_text("This app has encountered an error")).to_have_count(0)


def click_now(page: Page, *keys: str) -> None:
    """Click buttons in one go, as a fast double click or a late click on an old button does."""
    page.evaluate(
        "keys => keys.forEach(k => document.querySelector(`.st-key-${k} button`)?.click())",
        list(keys),
    )


def word_count(text: str, word: str) -> int:
    return len(re.findall(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text))


# -- 1. leftover buttons ---------------------------------------------------------------------
def test_a_late_continue_after_retry_is_ignored(chat: ChatPage) -> None:
    chat.send("/error server after 20 times 1\n/stall 2 after 30\n/lorem 60")
    chat.wait_idle(answers=1)
    expect(chat.button("continue")).to_be_visible()

    click_now(chat.page, "retry", "continue")  # the Continue arrives after the Retry

    chat.wait_idle(answers=1)
    no_exception(chat.page)
    expect(chat.answers).to_have_count(1)
    expect(chat.page.locator(ERROR_ALERT)).to_have_count(0)
    caption = chat.answers.last.locator('[data-testid="stCaptionContainer"]')
    expect(caption).not_to_contain_text("failed")


def test_regenerate_clicked_twice_answers_once(chat: ChatPage) -> None:
    chat.send(f"/stall 1 after 5\n/echo {words(20)}")
    chat.wait_idle(answers=1)

    click_now(chat.page, "regenerate", "regenerate")

    chat.wait_idle(answers=1)
    no_exception(chat.page)
    expect(chat.answers).to_have_count(1)
    expect(chat.user_messages).to_have_count(1)
    assert word_count(chat.answers.last.inner_text(), "w19") == 1


# -- 2. old chrome under a new stream --------------------------------------------------------
def test_only_the_streaming_answers_controls_exist_while_it_streams(chat: ChatPage) -> None:
    chat.send("/error server after 5 times 1\n/stall 4 after 10\n/lorem 40")
    chat.wait_idle(answers=1)
    expect(chat.page.locator(ERROR_ALERT)).to_have_count(1)

    chat.button("retry").click()
    chat.wait_streaming()

    main = chat.page.get_by_role("main")
    assert chat.streaming_text() is not None, "the answer ended before the checks"
    expect(chat.page.locator(ERROR_ALERT)).to_have_count(0)
    for key in ("retry", "continue", "regenerate"):
        expect(chat.button(key)).to_have_count(0)
    expect(main.locator("button[data-copy-from]")).to_have_count(0)
    expect(main.get_by_test_id("stFeedback")).to_have_count(0)
    expect(main.get_by_role("button", name="Edit")).to_have_count(0)
    expect(chat.button("stop")).to_be_visible()
    chat.wait_idle(answers=1)


# -- 3. Continue in place ----------------------------------------------------------------------
def test_continue_appends_to_the_same_answer_once(chat: ChatPage) -> None:
    echo = words(40)
    chat.send(f"/stall 60 after 12\n/echo {echo}")
    streamed(chat, "w11")
    chat.button("stop").click()
    chat.wait_idle(answers=1)

    chat.button("continue").click()

    seen: list[str] = []
    while (text := chat.streaming_text()) is not None:
        seen.append(text)
        chat.page.wait_for_timeout(30)
    for text in seen:  # while it streams: each word once, the old text not doubled
        assert word_count(text, "w3") <= 1, text
    chat.wait_idle(answers=1)
    expect(chat.answers).to_have_count(1)
    answer = chat.answers.last.get_by_test_id("stMarkdownContainer").first
    expect(answer).to_have_text(echo)  # continued in place, spaced, nothing quoted
    expect(chat.page.get_by_role("main")).not_to_contain_text("Continue exactly")


# -- 4. re-attaching ---------------------------------------------------------------------------
def test_switching_chats_mid_answer_and_back_shows_it_live(chat: ChatPage) -> None:
    echo = words(60)
    chat.send(f"/stall 5 after 20\n/echo {echo}")
    streamed(chat, "w19")

    chat.sidebar().get_by_role("button", name="New chat").click()
    expect(chat.streaming).to_have_count(0)
    chat.sidebar().locator('[class*="st-key-conv-"] button').first.click()

    expect(chat.streaming).to_contain_text("w19")  # live again, from where it is
    chat.wait_idle(answers=1)
    answer = chat.answers.last
    expect(answer.get_by_test_id("stMarkdownContainer").first).to_have_text(echo)
    caption = answer.locator('[data-testid="stCaptionContainer"]')
    for badge in ("streaming", "interrupted", "stopped"):
        expect(caption).not_to_contain_text(badge)


def test_reloading_mid_answer_shows_it_live_then_finished(chat: ChatPage) -> None:
    echo = words(60)
    chat.send(f"/stall 5 after 20\n/echo {echo}")
    streamed(chat, "w19")
    expect(chat.page).to_have_url(re.compile(r"[?&]c="))

    chat.page.reload()

    expect(chat.streaming).to_contain_text("w19")
    expect(chat.button("stop")).to_be_visible()
    chat.wait_idle(answers=1)
    no_exception(chat.page)
    answer = chat.answers.last
    expect(answer.get_by_test_id("stMarkdownContainer").first).to_have_text(echo)
    expect(answer.locator('[data-testid="stCaptionContainer"]')).not_to_contain_text("streaming")
    chat.button("regenerate").click()  # the re-attached answer is a normal one
    chat.wait_idle(answers=1)
    no_exception(chat.page)


# -- 5. Stop in reach, Esc ---------------------------------------------------------------------
def test_stop_stays_in_view_through_a_long_answer_and_esc_stops(chat: ChatPage) -> None:
    chat.send("/stall 30 after 700\n/lorem 800")
    streamed(chat, "")
    chat.page.wait_for_timeout(8_000)  # 8 s into a long answer (it is stalled, not over)

    assert chat.streaming_text() is not None
    expect(chat.button("stop")).to_be_in_viewport()
    chat.page.keyboard.press("Escape")

    chat.wait_idle(answers=1)
    expect(chat.answers.last.locator('[data-testid="stCaptionContainer"]')).to_contain_text(
        "stopped"
    )


# -- 6. waiting ------------------------------------------------------------------------------
def test_waiting_for_the_first_token_and_during_a_stall_is_shown(chat: ChatPage) -> None:
    chat.send(f"/stall 3\n/stall 3 after 10\n/echo {words(20)}")
    status = chat.page.locator(".st-key-answer-status")

    expect(status).to_contain_text(re.compile(r"Waiting for the model… [12] s"))
    streamed(chat, "w9")
    expect(status).to_contain_text(re.compile(r"Waiting for the model… [12] s"))
    chat.wait_idle(answers=1)


# -- 7. a back end without its key -------------------------------------------------------------
def test_openai_without_a_key_says_why_in_view_and_keeps_the_model_field(chat: ChatPage) -> None:
    settings = chat.open_settings()
    settings.get_by_test_id("stSelectbox").filter(has_text="Back end").click()
    chat.page.keyboard.type("openai")
    chat.page.keyboard.press("Enter")

    alert = chat.page.get_by_role("main").locator(ERROR_ALERT)
    expect(alert).to_contain_text("OpenAI API key")
    expect(alert).to_be_in_viewport()
    expect(settings.get_by_label("Model")).to_have_count(1)
    expect(settings.get_by_label("Model")).to_be_visible()
    expect(chat.page.get_by_test_id("stChatInputTextArea")).to_be_disabled()


# -- 8. scrolling ------------------------------------------------------------------------------
SCROLL = """() => {
    const el = document.querySelector('[data-testid="stMain"]');
    return {gap: el.scrollHeight - el.scrollTop - el.clientHeight, top: el.scrollTop,
            following: window.__chatScroll?.following};
}"""


def test_scrolling_up_while_streaming_stops_following_until_asked(chat: ChatPage) -> None:
    chat.send("/stall 4 after 300\n/stall 4 after 420\n/lorem 600")
    streamed(chat, "")
    chat.page.wait_for_function(
        "() => { const el = document.querySelector('[data-testid=\"stMain\"]');"
        " return el.scrollHeight > 2.5 * el.clientHeight; }"
    )
    main = chat.page.get_by_test_id("stMain")
    box = main.bounding_box()
    chat.page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    chat.page.mouse.wheel(0, -400)
    chat.page.wait_for_timeout(1_500)  # the page would pull back down within 0.3 s

    held = chat.page.evaluate(SCROLL)
    assert held["gap"] > 200 and held["following"] is False, held
    jump = chat.page.locator("#chat-jump-to-bottom")
    expect(jump).to_be_visible()

    jump.click()
    chat.page.wait_for_function("() => window.__chatScroll.following === true")
    chat.wait_idle(answers=1)
    chat.page.wait_for_timeout(300)
    assert chat.page.evaluate(SCROLL)["gap"] < 40

    chat.page.mouse.wheel(0, -600)  # scrolled up, then a new prompt: it is shown
    chat.send("/echo the newest prompt")
    chat.wait_idle(answers=2)
    expect(chat.user_messages.last).to_be_in_viewport()


# -- 9, 10, 11: Edit, Clear, Copy ---------------------------------------------------------------
def test_edit_popover_closes_on_resend(chat: ChatPage) -> None:
    chat.send("/echo first")
    chat.wait_idle(answers=1)
    chat.page.get_by_role("button", name="Edit").click()
    editor = chat.page.get_by_label("Your message")
    editor.fill("/echo second")
    chat.page.get_by_role("button", name="Save and resend").click()

    chat.wait_idle(answers=1)
    expect(chat.answers.last).to_contain_text("second")
    expect(chat.page.get_by_label("Your message")).to_have_count(0)


def test_clear_asks_first(chat: ChatPage) -> None:
    chat.send("/echo keep me")
    chat.wait_idle(answers=1)
    chat.sidebar().get_by_role("button", name="This chat").click()
    popover = chat.page.get_by_test_id("stPopoverBody")
    expect(popover.get_by_role("button", name="Clear for good")).to_have_count(0)

    popover.get_by_text(re.compile("Clear its 2 messages")).click()
    expect(chat.answers).to_have_count(1)  # nothing gone yet
    popover.get_by_role("button", name="Clear for good").click()

    expect(chat.answers).to_have_count(0)
    expect(chat.user_messages).to_have_count(0)


def test_export_is_made_on_click(chat: ChatPage) -> None:
    chat.send("/echo exported words")
    chat.wait_idle(answers=1)
    chat.sidebar().get_by_role("button", name="This chat").click()
    popover = chat.page.get_by_test_id("stPopoverBody")
    with chat.page.expect_download() as download:
        popover.get_by_role("button", name="Markdown").click()
    path = download.value.path()
    text = Path(path).read_text()
    assert "/echo exported words" in text
    assert "exported words" in text.split("/echo exported words", 1)[1]


def test_copy_is_one_click_with_feedback(chat: ChatPage) -> None:
    chat.send("/echo **bold** and `code`")
    chat.wait_idle(answers=1)
    copy = chat.answers.last.locator("button[data-copy-from]")

    copy.click()

    expect(copy).to_have_text("✓ Copied")
    assert chat.page.evaluate("navigator.clipboard.readText()") == "**bold** and `code`"


def test_copy_of_a_long_answer_is_its_whole_markdown_without_a_second_copy_in_the_page(
    chat: ChatPage,
) -> None:
    # Shown in two pieces of whole blocks (answer_blocks): Copy joins what the page shows.
    plan = OfflineBackend(400).plan(build_conversation("/lorem 3000", []), GenerationParams())
    text = "".join(e.text for _, e in plan if isinstance(e, TextDelta))
    chat.send("/lorem 3000")
    chat.wait_idle(answers=1)
    copy = chat.answers.last.locator("button[data-copy-from]")
    assert len(copy.evaluate("b => b.outerHTML")) < 200  # the text is not in the button

    copy.click()

    expect(copy).to_have_text("✓ Copied")
    assert chat.page.evaluate("navigator.clipboard.readText()") == text.strip()


# -- 12. two tabs ------------------------------------------------------------------------------
def test_a_second_tab_on_the_chat_shows_the_other_tabs_turns(
    chat: ChatPage, app_server: Server
) -> None:
    chat.send("/echo from the first tab")
    chat.wait_idle(answers=1)
    # A second tab of the same browser: its own Streamlit session, the same owner.
    other_page = chat.page.context.new_page()
    try:
        other_page.goto(chat.page.url)
        try:
            other = ChatPage(other_page).open(chat.page.url)
        except Exception:
            other_page.screenshot(path="test-artifacts/second-tab.png")
            raise
        expect(other.answers).to_have_count(1)
        chat.send("/echo a second turn")
        chat.wait_idle(answers=2)

        other.send("What came before?")  # its prompt goes with the first tab's turns

        other.wait_idle(answers=3)
        expect(other.user_messages.nth(1)).to_contain_text("a second turn")
        expect(other.answers.last).to_contain_text("after 4 earlier messages")
    finally:
        other_page.close()


# -- 13. honest chrome -------------------------------------------------------------------------
def test_a_refused_connection_names_the_server_and_asks_if_it_runs(chat: ChatPage) -> None:
    settings = chat.open_settings()
    url = "http://127.0.0.1:9/api/chat/stream"  # the discard port: nothing listens
    settings.get_by_label("Remote SSE URL").fill(url)
    settings.get_by_label("Remote SSE URL").press("Enter")
    expect(settings).to_contain_text("In use: remote")

    chat.send("hello")

    chat.wait_idle(answers=1)
    alert = chat.page.locator(ERROR_ALERT)
    expect(alert).to_contain_text("is the server running on 127.0.0.1:9?")  # named, with the fix
    caption = chat.answers.last.locator('[data-testid="stCaptionContainer"]')
    expect(caption).to_contain_text("failed")
    expect(caption).not_to_contain_text("interrupted")
    expect(caption).not_to_contain_text("$")
    expect(chat.page.get_by_role("main")).not_to_contain_text("gpt-4o-mini")


def test_retry_is_not_offered_for_a_rejected_key(chat: ChatPage) -> None:
    chat.send("/error auth after 3 times 1\nhello")
    chat.wait_idle(answers=1)
    expect(chat.page.locator(ERROR_ALERT)).to_contain_text("API key was rejected")
    expect(chat.button("retry")).to_have_count(0)
    expect(chat.button("continue")).to_have_count(0)
    expect(
        chat.page.get_by_test_id("stCaptionContainer").filter(has_text="Back end")
    ).to_contain_text("Back end offline")


# -- 14. layout and sidebar ---------------------------------------------------------------------
def test_the_end_of_an_answer_does_not_move_the_page(chat: ChatPage) -> None:
    echo = words(30)
    chat.send(f"/stall 3 after 30\n/echo {echo}")  # all text first, then a wait for the end
    streamed(chat, "w29")
    message = chat.page.locator('[data-testid="stChatMessage"]').last
    # the text is all there and the model waits 3 s: measure once the layout holds still
    # (under load the last frame's layout may land a moment after its text)
    streaming_height = settled_height(message)

    chat.wait_idle(answers=1)

    finished_height = chat.answers.last.bounding_box()["height"]
    assert abs(finished_height - streaming_height) < 48, (streaming_height, finished_height)
    expect(chat.button("regenerate")).to_be_in_viewport()


def settled_height(element: Locator) -> float:
    """The element's height once two reads 0.25 s apart agree (at most 2 s of reads)."""
    height = element.bounding_box()["height"]
    for _ in range(8):
        element.page.wait_for_timeout(250)
        again = element.bounding_box()["height"]
        if again == height:
            break
        height = again
    return height


def test_the_sidebar_lists_every_chat_with_dates_and_search(chat: ChatPage) -> None:
    # Letters only (a digit would match the search below); the app's database is shared.
    stem = "topic" + "".join(random.choices(string.ascii_lowercase, k=6))
    for i in range(7):
        if i:
            chat.sidebar().get_by_role("button", name="New chat").click()
            expect(chat.answers).to_have_count(0)
        chat.send(f"/echo {stem} {i}")
        chat.wait_idle(answers=1)
    sidebar = chat.sidebar()
    items = sidebar.locator('[class*="st-key-conv-"]').filter(has_text=stem)
    expect(items).to_have_count(7)
    expect(items.first).to_contain_text("just now")
    # The list is no small scroll box (it showed 3 chats of 11): every chat is laid out,
    # and the sidebar itself scrolls.
    box = sidebar.locator(".st-key-chat-list")
    assert box.evaluate("el => el.scrollHeight <= el.clientHeight + 1")
    assert box.evaluate("el => el.clientHeight") >= 7 * 30

    sidebar.get_by_label("Search chats").fill(f"{stem} 3")
    sidebar.get_by_label("Search chats").press("Enter")
    expect(sidebar.locator('[class*="st-key-conv-"]')).to_have_count(1)
    items.first.locator("button").first.click()

    expect(chat.user_messages.last).to_contain_text(f"{stem} 3")
    if chat.page.viewport_size["width"] < 768:  # a phone: picking a chat closes the drawer
        expect(chat.page.get_by_test_id("stSidebar")).not_to_be_in_viewport()


# -- starters ----------------------------------------------------------------------------------
def test_an_empty_chat_offers_starters_including_directives(chat: ChatPage) -> None:
    starters = chat.page.locator('[class*="st-key-starter-"]')
    expect(starters).to_have_count(5)
    expect(starters.filter(has_text="A long answer")).to_be_visible()

    chat.page.get_by_role("button", name="A long answer").click()

    chat.wait_idle(answers=1)
    expect(chat.user_messages.last).to_contain_text("/lorem 300")
    expect(chat.page.locator(".st-key-starters")).to_have_count(0)
