"""What the browser tests and the screenshot script share: servers, Chromium, the chat page.

The app runs as a real ``streamlit run`` subprocess from a scratch directory
(a copy of the project's Streamlit config, no ``.env``, no secrets, no API key
in its environment), so it always picks the offline back end.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

from playwright.sync_api import Browser, Locator, Page, Playwright, expect

from chat_core.settings_sources import SETTING_NAMES
from tests.support.servers import Server, run_server

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
# Debian's chromium: Playwright's own browser download does not work everywhere.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Fast enough to keep the suite short; tests that need a slow stream use /stall.
FAST_TPS = 400
WAIT_MS = 30_000  # generous: a loaded 2-core machine is slow, never wrong


def clean_env(**extra: str) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if k not in SETTING_NAMES
    }  # no developer's key or settings
    env["PYTHONUNBUFFERED"] = "1"  # server logs reach the file as they happen
    env.update(extra)
    return env


def launch_chromium(playwright: Playwright) -> Browser:
    """Debian's chromium, headless; fails with the fix when it is not installed."""
    path = shutil.which("chromium")
    if path is None:
        raise RuntimeError("chromium is not installed: `make browser` installs it")
    return playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)


@contextlib.contextmanager
def streamlit_app(
    workdir: Path, tokens_per_second: float = FAST_TPS, **settings: str
) -> Iterator[Server]:
    """``streamlit run streamlit_app.py`` on a free port, fresh database; offline unless
    ``settings`` (environment variables such as ``OPENAI_BASE_URL``) say otherwise."""
    (workdir / ".streamlit").mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / ".streamlit" / "config.toml", workdir / ".streamlit" / "config.toml")
    env = clean_env(
        CHAT_OFFLINE_TPS=str(tokens_per_second),
        CHAT_DB_PATH=str(workdir / "chats.sqlite3"),
        **settings,
    )
    options = {
        "server.port": "{port}",
        "server.address": "127.0.0.1",
        "server.headless": "true",
        "server.fileWatcherType": "none",
        "browser.gatherUsageStats": "false",
    }
    cmd = [sys.executable, "-m", "streamlit", "run", str(ROOT / "streamlit_app.py")]
    cmd += [f"--{name}={value}" for name, value in options.items()]
    with run_server(cmd, cwd=workdir, env=env, health_path="/_stcore/health") as server:
        yield server


@contextlib.contextmanager
def gateway(workdir: Path, tokens_per_second: float = FAST_TPS) -> Iterator[Server]:
    """The SSE gateway over the offline model, on a free port."""
    workdir.mkdir(parents=True, exist_ok=True)
    env = clean_env(CHAT_BACKEND="offline", CHAT_OFFLINE_TPS=str(tokens_per_second))
    cmd = [sys.executable, "-m", "chat_core.gateway", "--host", "127.0.0.1", "--port", "{port}"]
    with run_server(cmd, cwd=workdir, env=env, health_path="/healthz") as server:
        yield server


@contextlib.contextmanager
def openai_stub(
    workdir: Path, tokens_per_second: float = FAST_TPS, *options: str
) -> Iterator[Server]:
    """``python -m chat_core.openai_stub`` on a free port (``GET /_stub/stats`` counts requests);
    ``options`` such as ``--model NAME`` (serve only it) or ``--silent`` (never answer)."""
    workdir.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "chat_core.openai_stub", "--port", "{port}"]
    cmd += ["--tps", str(tokens_per_second), "--log-level", "warning", *options]
    with run_server(cmd, cwd=workdir, env=clean_env(), health_path="/healthz") as server:
        yield server


# -- the chat page --------------------------------------------------------------------------

STREAMING = ".st-key-streaming-answer"
CURSOR = "▌"
_ASSISTANT = '[data-testid="stChatMessage"]:has([data-testid="stChatMessageAvatarAssistant"])'
_USER = '[data-testid="stChatMessage"]:has([data-testid="stChatMessageAvatarUser"])'
METRICS = re.compile(r"first token [\d.]+ s · \d+ tok/s · \d+ tokens")


class ChatPage:
    """The chat page as a user sees it: what to type and click, what to read."""

    def __init__(self, page: Page) -> None:
        self.page = page

    def open(self, url: str) -> ChatPage:
        self.page.goto(url)
        self.input.wait_for(timeout=WAIT_MS)
        self.wait_idle()
        return self

    @property
    def input(self) -> Locator:
        return self.page.get_by_placeholder("Ask anything")

    @property
    def streaming(self) -> Locator:
        return self.page.locator(STREAMING)

    @property
    def answers(self) -> Locator:
        """Finished assistant messages (the streaming one excluded)."""
        return self.page.locator(f"{_ASSISTANT}:not(:has({STREAMING}))")

    @property
    def user_messages(self) -> Locator:
        return self.page.locator(_USER)

    def button(self, key: str) -> Locator:
        return self.page.locator(f".st-key-{key} button")

    def sidebar(self) -> Locator:
        """The sidebar, opened first where it is a drawer (a phone) that is closed."""
        sidebar = self.page.get_by_test_id("stSidebar")
        opener = self.page.get_by_test_id("stExpandSidebarButton")
        if opener.is_visible():
            opener.click()
            expect(sidebar.get_by_role("button", name="New chat")).to_be_in_viewport()
        return sidebar

    def open_settings(self) -> Locator:
        """The sidebar's settings, expanded (they start collapsed once the settings work)."""
        sidebar = self.sidebar()
        expander = sidebar.get_by_test_id("stExpander").filter(has_text="Model and settings")
        if not expander.get_by_label("Remote SSE URL").is_visible():
            expander.locator("summary").click()
        expander.get_by_label("Remote SSE URL").wait_for(state="visible")
        return expander

    def send(self, prompt: str) -> None:
        """Type a prompt (newlines kept) and press Enter."""
        self.input.fill(prompt)
        self.input.press("Enter")

    def wait_streaming(self) -> None:
        """Until the streaming answer shows some text."""
        self.page.wait_for_function(
            "s => (document.querySelector(s)?.innerText || '').trim().length > 0",
            arg=STREAMING,
            timeout=WAIT_MS,
        )

    def wait_idle(self, answers: int | None = None) -> None:
        """Until nothing streams, the input is free and (optionally) ``answers`` are shown."""
        self.page.wait_for_function(
            """([streaming, assistant, n]) => {
                const input = document.querySelector('[data-testid="stChatInputTextArea"]');
                const done = [...document.querySelectorAll(assistant)]
                    .filter(m => !m.querySelector(streaming)).length;
                // and the script run that ends an answer is over: it redraws the sidebar's
                // menus (their keys name the chat's version), which closes an open one
                const app = document.querySelector('[data-testid="stApp"]');
                const state = app ? app.dataset.testScriptState : undefined;
                const settled = state !== "running" && state !== "rerunRequested";
                return input && !input.disabled && !document.querySelector(streaming)
                    && (n === null || done >= n) && settled;
            }""",
            arg=[STREAMING, _ASSISTANT, answers],
            timeout=WAIT_MS,
        )

    def streaming_text(self) -> str | None:
        """The streaming answer's text now, or None when no answer is streaming."""
        return self.page.evaluate("s => document.querySelector(s)?.innerText ?? null", STREAMING)


@contextlib.contextmanager
def profile(browser: Browser) -> Iterator[Page]:
    """A separate browser profile (cookies, storage) with one tab; page errors fail the test."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(WAIT_MS)
    errors: list[str] = []
    page = context.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        yield page
    finally:
        context.close()
    assert not errors, errors
