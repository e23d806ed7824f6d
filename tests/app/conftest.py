from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from chat_core.settings_sources import SETTING_NAMES

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def chat_env(monkeypatch, tmp_path):
    """A clean environment: no keys, no .env, a fresh database, a fast offline model."""
    monkeypatch.chdir(tmp_path)
    for name in SETTING_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CHAT_OFFLINE_TPS", "2000")
    monkeypatch.setenv("CHAT_DB_PATH", str(tmp_path / "chats.sqlite3"))
    monkeypatch.syspath_prepend(str(ROOT))
    yield tmp_path
    st.cache_resource.clear()


def new_chat_app(browser: str | None = None, **query: str) -> AppTest:
    """A new browser session of the chat page (optionally with URL query parameters).

    ``browser``: the identity token this browser's cookie holds. AppTest cannot send
    cookies, so it is put where the page keeps what it read from the cookie.
    """
    at = AppTest.from_file(str(ROOT / "app_pages" / "chat.py"), default_timeout=30)
    if browser is not None:
        at.session_state["browser_token"] = browser
    for name, value in query.items():
        at.query_params[name] = value
    return at.run()


def browser_of(at: AppTest) -> str:
    """The identity token the page gave this session (what its cookie script stores)."""
    return at.session_state["browser_token"]
