"""View code in the browser: open it beside the prompt, copy the Python and the curl with
their copy buttons, run them against the OpenAI stub, and get the answer the page shows."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.harness import FAST_TPS, ChatPage, Server, clean_env, openai_stub, streamlit_app

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with openai_stub(tmp_path_factory.mktemp("stub")) as server:
        yield server


def copied(chat: ChatPage, code: Locator) -> str:
    """What the code block's own copy button puts on the clipboard."""
    code.hover()
    code.get_by_role("button").click()
    text: str = chat.page.evaluate("navigator.clipboard.readText()")
    return text


def answer_copied(chat: ChatPage) -> str:
    """The last answer's markdown, as its Copy button puts it on the clipboard."""
    chat.answers.last.locator("button[data-copy-from]").click()
    text: str = chat.page.evaluate("navigator.clipboard.readText()")
    return text


def use_a_preset(chat: ChatPage, name: str) -> None:
    """Save the current settings as a preset, refuse a foreign file, then pick the preset."""
    chat.page.get_by_role("button", name="Workbench").click()
    presets = chat.page.locator(".st-key-presets")
    presets.get_by_label("Preset name").fill(name)
    presets.get_by_label("Preset name").press("Enter")
    presets.get_by_role("button", name="Save current").click()
    expect(presets).to_contain_text(f"Saved '{name}'")
    foreign = {"name": "chat.json", "mimeType": "application/json", "buffer": b'{"messages": []}'}
    presets.locator("input[type=file]").set_input_files(foreign)
    expect(presets).to_contain_text("not a presets export")
    presets.get_by_test_id("stSelectbox").click()
    chat.page.get_by_role("option", name=name).click()
    expect(presets).to_contain_text(f"Preset '{name}' is in the settings panel")


def run(argv: list[str], base_url: str) -> str:
    env = clean_env(OPENAI_BASE_URL=base_url)
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_view_code_python_and_curl_print_the_answer_shown(chat: ChatPage, stub: Server) -> None:
    chat.send("What does View code show?")
    chat.wait_idle(answers=1)
    answer = answer_copied(chat)
    assert answer
    chat.user_messages.last.get_by_role("button", name="View code").click()
    body = chat.page.get_by_test_id("stPopoverBody")
    python_code = body.get_by_role("tabpanel", name="Python (openai SDK)").get_by_test_id("stCode")
    expect(python_code).to_contain_text("client.chat.completions.create(")
    python = copied(chat, python_code)
    assert run([sys.executable, "-c", python], f"{stub.url}/v1") == answer + "\n"

    body.get_by_role("tab", name="curl (the stub)").click()
    curl_code = body.get_by_role("tabpanel", name="curl (the stub)").get_by_test_id("stCode")
    expect(curl_code).to_be_visible()
    chunks = [
        json.loads(line[len("data: ") :])
        for line in run(["bash", "-c", copied(chat, curl_code)], f"{stub.url}/v1").splitlines()
        if line.startswith("data: {")
    ]
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert text == answer


def test_variables_are_filled_before_sending_and_view_code_reproduces_the_answer(
    chat: ChatPage, stub: Server
) -> None:
    use_a_preset(chat, "Terse")
    chat.send("Weather in {{city}} today?")
    fields = chat.page.locator(".st-key-variables")
    fields.get_by_label("{{city}}").fill("Oslo")
    fields.get_by_label("{{city}}").press("Enter")
    fields.get_by_role("button", name="Send").click()
    chat.wait_idle(answers=1)
    expect(chat.user_messages.last).to_contain_text("Weather in Oslo today?")
    expect(chat.page.locator(".st-key-variables")).to_have_count(0)
    answer = answer_copied(chat)
    assert answer and "Oslo" in answer
    chat.user_messages.last.get_by_role("button", name="View code").click()
    panel = chat.page.get_by_test_id("stPopoverBody").get_by_role(
        "tabpanel", name="Python (openai SDK)"
    )
    python = copied(chat, panel.get_by_test_id("stCode"))
    assert "Weather in Oslo today?" in python and "{{city}}" not in python
    assert run([sys.executable, "-c", python], f"{stub.url}/v1") == answer + "\n"


SCHEMA = (
    '{"type": "object", "properties": {"city": {"type": "string"}, '
    '"temperature_c": {"type": "number"}}, "required": ["city", "temperature_c"]}'
)


def set_schema(chat: ChatPage, schema: str) -> None:
    chat.page.get_by_role("button", name="Workbench").click()
    box = chat.page.locator(".st-key-structured")
    box.get_by_role("textbox", name="JSON schema").fill(schema)
    box.get_by_role("textbox", name="JSON schema").press("Control+Enter")  # commits the text
    chat.page.keyboard.press("Escape")  # the popover closes


def test_schema_answers_show_valid_or_the_failing_path(chat: ChatPage) -> None:
    set_schema(chat, SCHEMA)
    chat.send("Weather in Oslo?")
    chat.wait_idle(answers=1)
    expect(chat.answers.last).to_contain_text("valid against the JSON schema")
    chat.send('/echo {"city": "Oslo"}')
    chat.wait_idle(answers=2)
    expect(chat.answers.last).to_contain_text("not valid at $: 'temperature_c' is a required")


def test_a_server_refusing_response_format_gets_the_schema_in_the_system_prompt(
    page: Page, tmp_path: Path
) -> None:
    # A server that serves only this model (the app asks for the model the server lists).
    with openai_stub(tmp_path / "stub", FAST_TPS, "--model", "gpt-noschema") as stub:
        settings = {"OPENAI_BASE_URL": f"{stub.url}/v1", "CHAT_MODEL": "gpt-noschema"}
        with streamlit_app(tmp_path, **settings) as app:
            chat = ChatPage(page).open(app.url)
            set_schema(chat, SCHEMA)
            chat.send("Weather in Oslo?")
            chat.wait_idle(answers=1)
            expect(chat.answers.last).to_contain_text("valid against the JSON schema")
            expect(chat.answers.last).to_contain_text("the schema went in the system prompt")
