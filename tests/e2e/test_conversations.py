"""Saved conversations in the browser: a reload and a new app process both bring them back."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.harness import ChatPage, streamlit_app

pytestmark = pytest.mark.e2e


def sidebar_chat(page: Page, title: str):
    return page.locator('[data-testid="stSidebar"] [class*="st-key-conv-"]').get_by_text(title)


def test_reload_and_restart_bring_the_conversation_back(page: Page, tmp_path: Path) -> None:
    with streamlit_app(tmp_path) as server:
        chat = ChatPage(page).open(server.url)
        chat.send("/echo saved across restarts")
        chat.wait_idle(answers=1)
        expect(page).to_have_url(re.compile(r"[?&]c=[A-Za-z0-9_-]{22}"))
        query = page.url.split("?", 1)[1]

        page.reload()  # a new Streamlit session: the URL says which chat was open
        expect(chat.answers.last).to_contain_text("saved across restarts")

    with streamlit_app(tmp_path) as server:  # a new process on the same database file
        chat = ChatPage(page).open(server.url)
        expect(sidebar_chat(page, "/echo saved across restarts")).to_be_visible()
        page.goto(f"{server.url}/?{query}")
        expect(chat.answers.last).to_contain_text("saved across restarts")
