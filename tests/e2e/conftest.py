"""Fixtures for the browser suite: the app, the gateway, Chromium, and evidence on failure.

A failing test leaves ``test-artifacts/<test>/`` with a full-page screenshot,
the page's console log and the servers' log tails. An uncaught error in the
page fails the test that caused it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.e2e.harness import (
    ARTIFACTS,
    WAIT_MS,
    ChatPage,
    Server,
    gateway,
    launch_chromium,
    streamlit_app,
)

# expect() retries until its condition holds: a busy machine only makes that take longer.
expect.set_options(timeout=WAIT_MS)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    # Keep each phase's report on the item, so fixtures can tell a failed test at teardown.
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def app_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with streamlit_app(tmp_path_factory.mktemp("streamlit")) as server:
        yield server


@pytest.fixture(scope="session")
def gateway_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with gateway(tmp_path_factory.mktemp("gateway")) as server:
        yield server


# Module scope: Playwright's sync API marks the thread's asyncio loop as running while it
# is started, which breaks asyncio.run() in any test that runs after it in the session.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        browser = launch_chromium(p)
        yield browser
        browser.close()


@pytest.fixture
def viewport() -> dict[str, int]:
    """The window size; a module overrides it to run its tests at several widths."""
    return {"width": 1280, "height": 900}


@pytest.fixture
def page(
    browser: Browser, request: pytest.FixtureRequest, viewport: dict[str, int]
) -> Iterator[Page]:
    """A fresh browser context (so a fresh Streamlit session) per test."""
    context = browser.new_context(
        viewport=viewport, permissions=["clipboard-read", "clipboard-write"]
    )
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda m: console.append(f"[{m.type}] {m.text}"))
    page.on("pageerror", lambda e: console.append(f"[pageerror] {e}"))
    yield page
    reports = (getattr(request.node, f"rep_{when}", None) for when in ("setup", "call"))
    failed = any(report is not None and report.failed for report in reports)
    page_errors = [line for line in console if line.startswith("[pageerror]")]
    if failed or page_errors:
        _save_evidence(request, page, console)
    context.close()
    if page_errors and not failed:
        pytest.fail("uncaught errors in the page:\n" + "\n".join(page_errors))


@pytest.fixture
def chat(page: Page, app_server: Server) -> ChatPage:
    """The chat page, loaded and idle."""
    return ChatPage(page).open(app_server.url)


def _save_evidence(request: pytest.FixtureRequest, page: Page, console: list[str]) -> None:
    out = ARTIFACTS / re.sub(r"[^\w.-]+", "_", request.node.nodeid)
    out.mkdir(parents=True, exist_ok=True)
    try:
        page.screenshot(path=str(out / "screenshot.png"), full_page=True, timeout=10_000)
    except Exception as exc:  # the page may be the thing that broke
        console.append(f"[harness] screenshot failed: {exc}")
    (out / "console.log").write_text("\n".join(console) + "\n")
    for name, value in getattr(request.node, "funcargs", {}).items():
        if isinstance(value, Server):
            (out / f"{name}.log").write_text(value.log_tail(20_000))
    print(f"\nevidence saved under {out}")
