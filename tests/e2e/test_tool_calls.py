"""Tool calls in the browser: the offline model (and the stub, in the Chat Completions,
Ollama and Responses shapes) calls a tool, its arguments grow live in a step, a typed result
gets the final answer, a reload shows the whole exchange; the calculator loops untouched."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.harness import FAST_TPS, WAIT_MS, ChatPage, Server, openai_stub, streamlit_app

pytestmark = pytest.mark.e2e

# Slow enough that a long call's arguments take a few seconds to stream.
SLOW_TPS = 12
LONG_CALL = (
    '/tool get_weather {"city": "Paris", "unit": "celsius", "note": "'
    + "a long argument that takes a while to stream " * 2
    + '"}\nWhat is the weather in Paris?'
)


@pytest.fixture(scope="module")
def slow_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with streamlit_app(tmp_path_factory.mktemp("tools"), tokens_per_second=SLOW_TPS) as server:
        yield server


def add_tool(chat: ChatPage, name: str) -> None:
    chat.page.get_by_role("button", name="Workbench").click()
    chat.page.locator(f".st-key-add-tool-{name} button").click()
    field = chat.page.get_by_role("textbox", name="Tool definitions (JSON)")
    expect(field).to_have_value(re.compile(f'"{name}"'))
    chat.page.keyboard.press("Escape")


def steps(chat: ChatPage):  # type: ignore[no-untyped-def]
    return chat.answers.get_by_test_id("stExpander")


def open_waiting_steps(chat: ChatPage, count: int) -> None:
    """Until ``count`` steps wait for a result, each with its field (outside the step)."""
    expect(steps(chat).filter(has_text="waiting for its result")).to_have_count(count)
    expect(chat.page.get_by_role("button", name="Send result")).to_have_count(count)


def give_result(chat: ChatPage, position: int, text: str) -> None:
    field = chat.page.get_by_label("Result").nth(position)
    field.fill(text)
    chat.page.get_by_role("button", name="Send result").nth(position).click()


# The streaming answer's live call: its arguments so far.
LIVE_ARGUMENTS = """() => {
    const code = document.querySelector('.st-key-live-tool-calls [data-testid="stCode"]');
    return code ? code.innerText : '';
}"""


def live_arguments(page: Page) -> str:
    text: str = page.evaluate(LIVE_ARGUMENTS)
    return text


def test_offline_weather_call_grows_live_is_answered_and_survives_a_reload(
    page: Page, slow_app: Server
) -> None:
    chat = ChatPage(page).open(slow_app.url)
    add_tool(chat, "get_weather")
    chat.send(LONG_CALL)
    growing = "t => t.includes('Paris') && !t.includes('}')"  # started, not finished
    partial = f"() => ({growing})(({LIVE_ARGUMENTS})())"
    page.wait_for_function(partial, timeout=WAIT_MS)
    early = live_arguments(page)
    step = steps(chat).first
    expect(step).to_contain_text("get_weather: waiting for its result")
    open_waiting_steps(chat, 1)
    final_args = step.get_by_test_id("stCode").first.inner_text()
    assert early.strip() and len(early.strip()) < len(final_args.strip())
    assert '"city": "Paris"' in final_args  # formatted JSON once complete

    give_result(chat, 0, "18 C and sunny")
    expect(chat.answers.last).to_contain_text("18 C and sunny")
    chat.wait_idle(answers=2)
    expect(steps(chat).first).to_contain_text("get_weather answered")

    page.reload()
    chat.input.wait_for()
    chat.wait_idle(answers=2)
    expect(steps(chat).first).to_contain_text("get_weather answered")
    steps(chat).first.locator("summary").click()
    expect(steps(chat).first).to_contain_text("18 C and sunny")
    expect(chat.answers.last).to_contain_text("18 C and sunny")


def test_the_calculator_answers_a_multi_step_loop_without_typing(
    page: Page, app_server: Server
) -> None:
    chat = ChatPage(page).open(app_server.url)
    add_tool(chat, "calculator")
    chat.send("Compute (2 + 3) * 4, then 6 * 7")
    chat.wait_idle(answers=3)
    expect(chat.answers.nth(2)).to_contain_text('"result": 20')
    expect(chat.answers.nth(2)).to_contain_text('"result": 42')
    expect(steps(chat)).to_have_count(2)


@pytest.mark.parametrize(
    ("model", "api"),
    [("ollama-llama3", "chat"), ("gpt-4o-mini", "chat"), ("gpt-4o-mini", "responses")],
)
def test_stub_parallel_calls_are_two_steps_and_get_the_answer(
    page: Page, tmp_path: Path, model: str, api: str
) -> None:
    with openai_stub(tmp_path / "stub", FAST_TPS, "--model", model) as stub:  # its dialect
        settings = {"OPENAI_BASE_URL": f"{stub.url}/v1", "CHAT_OPENAI_API": api}
        with streamlit_app(tmp_path / "app", **settings) as app:
            check_parallel_calls(ChatPage(page).open(app.url), model)


def check_parallel_calls(chat: ChatPage, model: str) -> None:
    caption = chat.page.get_by_test_id("stCaptionContainer").filter(has_text="Back end")
    expect(caption).to_contain_text(f"model {model}")  # the stub's dialect for that name
    add_tool(chat, "get_weather")
    chat.send('/tool get_weather {"city": "Paris"}\n/tool get_weather {"city": "Oslo"}\nBoth?')
    # Ollama: both at index 0, told apart by id: two steps
    open_waiting_steps(chat, 2)
    expect(chat.answers.last).to_contain_text('"Paris"')
    expect(chat.answers.last).to_contain_text('"Oslo"')
    give_result(chat, 0, "Paris: 18 C")
    expect(chat.answers.last).to_contain_text("get_weather answered")
    open_waiting_steps(chat, 1)
    give_result(chat, 0, "Oslo: 2 C")  # the first field is gone once answered
    expect(chat.answers.last).to_contain_text("Oslo: 2 C")
    expect(chat.answers.last).to_contain_text("Paris: 18 C")


def test_the_weather_exchange_through_the_gateway(
    page: Page, app_server: Server, gateway_server: Server
) -> None:
    from tests.e2e.test_remote import use_gateway

    chat = ChatPage(page).open(app_server.url)
    use_gateway(chat, gateway_server)
    add_tool(chat, "get_weather")
    chat.send("What is the weather in Oslo?")
    open_waiting_steps(chat, 1)
    expect(chat.answers.last).to_contain_text('"city": "Oslo"')
    give_result(chat, 0, "Oslo: -3 C, snow")
    expect(chat.answers.last).to_contain_text("Oslo: -3 C, snow")
    expect(chat.answers.last).not_to_contain_text("waiting for its result")
