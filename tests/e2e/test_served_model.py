"""A real browser against a server that serves one model under its own name, or never answers.

The stub refuses any model it does not serve with 404 "model not found", as
Ollama does, so an answer at all proves the app asked for the served model.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.harness import ChatPage, Server, openai_stub, streamlit_app

pytestmark = pytest.mark.e2e

SERVED = "llama3.2:1b"


@pytest.fixture(scope="module")
def strict_stub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with openai_stub(tmp_path_factory.mktemp("stub"), 400, "--model", SERVED) as server:
        yield server


def stored_models(db: Path) -> list[str | None]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT model FROM messages WHERE role = 'assistant'").fetchall()
    conn.close()
    return [row[0] for row in rows]


def model_caption(chat: ChatPage):
    return chat.page.get_by_test_id("stCaptionContainer").filter(has_text="Back end")


def test_openai_base_url_alone_answers_from_the_served_model_without_a_cost(
    page: Page, strict_stub: Server, tmp_path: Path
) -> None:
    with streamlit_app(tmp_path, OPENAI_BASE_URL=strict_stub.url + "/v1") as app:
        chat = ChatPage(page).open(app.url)
        expect(model_caption(chat)).to_contain_text(f"model {SERVED}")
        settings = chat.open_settings()  # says where the model came from, beside the field
        expect(
            settings.get_by_text(f"Using {SERVED}, its only model of 127.0.0.1:")
        ).to_be_visible()
        chat.send("Tell me about streaming")
        chat.wait_idle(answers=1)
        answer = chat.answers.last
        expect(answer.get_by_test_id("stMarkdownContainer").first).not_to_be_empty()
        caption = answer.locator('[data-testid="stCaptionContainer"]').first
        expect(caption).to_contain_text("tokens")
        expect(caption).not_to_contain_text("$")  # a local model: tokens, no cost
        expect(answer.get_by_test_id("stAlert")).to_have_count(0)  # no "model not found"
        assert stored_models(tmp_path / "chats.sqlite3") == [SERVED]
        sidebar = chat.sidebar()
        sidebar.get_by_text("Usage and prices").click()
        expect(sidebar.get_by_text("Tokens in this chat")).to_be_visible()
        expect(sidebar.get_by_text("Estimated cost")).to_have_count(0)


def test_a_base_url_typed_after_starting_offline_answers_from_its_model(
    chat: ChatPage, strict_stub: Server
) -> None:
    expect(model_caption(chat)).to_contain_text("model offline-scripted")
    settings = chat.open_settings()
    field = settings.get_by_role("textbox", name="Base URL")
    field.fill("localhost:1/v1")  # no scheme: told beside the field, nothing sent
    field.press("Enter")
    expect(settings.get_by_text("needs http:// or https:// in front")).to_be_visible()
    field.fill("http://user:secret@127.0.0.1:1/v1")
    field.press("Enter")
    expect(settings.get_by_text("has a user name or password in it")).to_be_visible()
    expect(chat.page.get_by_text("secret")).to_have_count(0)  # never shown back
    field.fill(strict_stub.url + "/v1")
    field.press("Enter")
    expect(model_caption(chat)).to_contain_text(f"model {SERVED}")
    chat.send("Hello there")
    chat.wait_idle(answers=1)
    answer = chat.answers.last
    expect(answer.get_by_test_id("stAlert")).to_have_count(0)
    expect(answer.get_by_test_id("stMarkdownContainer").first).not_to_be_empty()


def test_a_server_that_never_answers_ends_with_the_host_named(page: Page, tmp_path: Path) -> None:
    # The default first-byte timeout (30 s), not a shortened one: silence is bounded as shipped.
    with (
        openai_stub(tmp_path / "stub", 400, "--silent") as silent,
        streamlit_app(tmp_path / "app", OPENAI_BASE_URL=silent.url + "/v1") as app,
    ):
        chat = ChatPage(page).open(app.url)
        chat.send("Anyone there?")
        expect(chat.page.get_by_text("No response from 127.0.0.1 yet")).to_be_visible()
        port = silent.url.rsplit(":", 1)[1]
        error = chat.page.get_by_test_id("stAlert").filter(has_text="No response from")
        expect(error).to_contain_text(f"127.0.0.1:{port}", timeout=40_000)
        expect(error).to_contain_text("Retry")


def test_a_model_list_slower_than_the_first_paint_still_sets_the_model(
    page: Page, tmp_path: Path
) -> None:
    import asyncio

    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from tests.support.servers import serve_app

    async def models(request: object) -> JSONResponse:
        await asyncio.sleep(4)  # longer than the page waits for it
        return JSONResponse({"object": "list", "data": [{"id": SERVED, "object": "model"}]})

    slow = Starlette(routes=[Route("/v1/models", models)])
    with serve_app(slow) as url, streamlit_app(tmp_path, OPENAI_BASE_URL=url + "/v1") as app:
        chat = ChatPage(page).open(app.url)
        # No click, no typing: the page redraws itself when the list arrives.
        expect(model_caption(chat)).to_contain_text(f"model {SERVED}")
