"""Compare in the browser, at desktop and phone widths: lanes at different speeds stream at
once, a failing lane fails alone, Stop stops one lane, a reload and a second tab come back to
the live lanes, a blind vote names them and fills the leaderboard, and Continue in Chat shows
the versions."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.harness import Server, streamlit_app

pytestmark = pytest.mark.e2e

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
TPS = 40  # offline-slow: 16 tok/s, so its 3,000 tokens outlast the test until Stop


@pytest.fixture(scope="module")
def compare_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with streamlit_app(tmp_path_factory.mktemp("compare"), tokens_per_second=TPS) as server:
        yield server


@pytest.fixture(params=[DESKTOP, PHONE], ids=["desktop", "phone"])
def viewport(request: pytest.FixtureRequest) -> dict[str, int]:
    return request.param


def lane(page: Page, k: int):
    return page.locator(f".st-key-lane-{k}")


def health(page: Page, k: int):
    return lane(page, k).get_by_test_id("stCaptionContainer").last


def system_prompt(page: Page, k: int, text: str) -> None:
    editor = page.locator(f".st-key-editor-lane-{k}")
    editor.get_by_test_id("stExpander").locator("summary").click()
    editor.get_by_role("textbox", name="System prompt").fill(text)
    editor.get_by_role("textbox", name="System prompt").press("Tab")
    expect(editor.get_by_role("textbox", name="System prompt")).to_have_value(text)


def no_exception(page: Page) -> None:
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)


def test_lanes_stream_at_once_fail_and_stop_alone_survive_a_reload_and_are_voted_on(
    page: Page, compare_server: Server, viewport: dict[str, int]
) -> None:
    page.goto(f"{compare_server.url}/compare")
    prompt = page.get_by_placeholder("Send to every lane")
    prompt.wait_for()
    # lanes: A fast (a short scripted answer), B scripted but failing after 20 tokens, C and D
    # slow with a long answer: directives in a lane's system prompt apply to that lane only
    system_prompt(page, 2, "/lorem 3000")
    page.locator(".st-key-editor-lane-2").get_by_role("button", name="Duplicate").click()
    model_d = page.locator(".st-key-editor-lane-3").get_by_role("combobox", name="Model")
    expect(model_d).to_have_value("offline-slow")
    system_prompt(page, 1, "/error server after 20")
    page.get_by_text("Blind: lanes named").click()
    prompt.fill("How do streams work?")
    prompt.press("Enter")

    expect(lane(page, 0).get_by_text("Lane A")).to_be_visible()
    # the fast lane is done while the slow ones still stream; the failing one failed alone
    expect(health(page, 0)).to_contain_text("finish stop")
    expect(page.locator(".st-key-stop-lane-2 button")).to_be_visible()
    expect(lane(page, 1).get_by_text("The model server failed")).to_be_visible()
    expect(health(page, 1)).to_contain_text("finish error")
    expect(health(page, 2)).to_contain_text("so far")
    no_exception(page)

    page.reload()  # mid-answer: the live lanes come back, still streaming
    expect(page.locator(".st-key-stop-lane-2 button")).to_be_visible()
    expect(page.locator(".st-key-stop-lane-3 button")).to_be_visible()
    expect(health(page, 0)).to_contain_text("finish stop")

    second = page.context.new_page()  # a second tab of this browser: the same live lanes
    second.goto(page.url)
    expect(second.locator(".st-key-stop-lane-3 button")).to_be_visible()
    expect(second.locator(".st-key-lane-1").get_by_text("The model server failed")).to_be_visible()
    second.close()

    page.locator(".st-key-stop-lane-2 button").click()  # Stop one lane: only it stops
    expect(health(page, 2)).to_contain_text("finish cancelled")
    expect(page.locator(".st-key-stop-lane-3 button")).to_be_visible()
    before = len(lane(page, 3).inner_text())
    page.wait_for_function(
        "([s, n]) => (document.querySelector(s)?.innerText || '').length > n",
        arg=[".st-key-lane-3", before + 20],
    )
    page.locator(".st-key-stop-all button").click()
    expect(health(page, 3)).to_contain_text("finish cancelled")

    # blind until the vote; then the names and the leaderboard
    expect(lane(page, 0).get_by_text("offline-fast")).to_have_count(0)
    page.locator(".st-key-vote-0 button").click()
    expect(lane(page, 0).get_by_text("offline · offline-fast")).to_be_visible()
    expect(lane(page, 2).get_by_text("offline · offline-slow")).to_be_visible()
    board = page.get_by_test_id("stExpander").filter(has_text="Leaderboard")
    expect(board.get_by_role("table")).to_contain_text("offline-fast")
    no_exception(page)

    # Continue in Chat: lane A's answer, with the other three as its versions
    page.locator(".st-key-continue-0 button").click()
    expect(page.get_by_placeholder("Ask anything")).to_be_visible()
    expect(page.get_by_text("1/4", exact=True)).to_be_visible()
    no_exception(page)


def test_reasoning_streams_apart_in_its_own_lane_only(
    page: Page, compare_server: Server, viewport: dict[str, int]
) -> None:
    page.goto(f"{compare_server.url}/compare")
    prompt = page.get_by_placeholder("Send to every lane")
    prompt.wait_for()
    system_prompt(page, 1, "/think 4")  # lane B reasons first; A and C answer at once
    prompt.fill("Hello there")
    prompt.press("Enter")
    thinking = lane(page, 1).get_by_text("Thinking...")
    expect(thinking).to_be_visible()
    expect(lane(page, 0).get_by_text("Thinking...")).to_have_count(0)
    expect(lane(page, 1).get_by_text("Thought for")).to_be_visible()  # collapsed, apart
    expect(health(page, 1)).to_contain_text("finish stop")
    expect(lane(page, 0).get_by_text("Thought for")).to_have_count(0)
    expect(lane(page, 2).get_by_text("Thought for")).to_have_count(0)
    no_exception(page)
