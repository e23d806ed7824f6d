"""The README's screenshots: ``.venv/bin/python -m tests.e2e.screenshots``.

Runs the app like the browser suite does (offline back end at its default 40
tokens/s, Debian's chromium) and writes ``docs/chat.png`` (desktop, 1280x800),
``docs/chat-phone.png`` (390x844) and ``docs/diagnostics.png``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from playwright.sync_api import Browser, Page, sync_playwright

from tests.e2e.harness import ROOT, WAIT_MS, ChatPage, launch_chromium, streamlit_app

DOCS = ROOT / "docs"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def chat_shot(page: Page, url: str, out: Path) -> None:
    chat = ChatPage(page).open(url)
    chat.send("How do tokens get from the model to the screen?")
    chat.wait_idle(answers=1)
    # The second answer waits mid-stream: its waiting line and Stop beside the input.
    chat.send("/stall 30 after 60\n/lorem 300")
    page.wait_for_function(
        "() => (document.querySelector('.st-key-answer-status')?.innerText || '')"
        ".includes('Waiting for the model… 2 s')"
    )
    page.screenshot(path=str(out))
    chat.button("stop").click()
    chat.wait_idle(answers=2)


def diagnostics_shot(page: Page, url: str, out: Path) -> None:
    page.goto(f"{url}/diagnostics")
    page.locator(".st-key-run_probe button").click()
    page.get_by_role("button", name="Stop").wait_for(state="detached", timeout=WAIT_MS)
    page.wait_for_timeout(1000)
    page.screenshot(path=str(out), full_page=True)


def page_of(browser: Browser, viewport: dict[str, int]) -> Page:
    context = browser.new_context(viewport=viewport)
    context.set_default_timeout(WAIT_MS)
    return context.new_page()


def main() -> None:
    DOCS.mkdir(exist_ok=True)
    with (
        tempfile.TemporaryDirectory() as workdir,
        streamlit_app(Path(workdir), tokens_per_second=40) as app,
        sync_playwright() as p,
    ):
        browser = launch_chromium(p)
        chat_shot(page_of(browser, DESKTOP), app.url, DOCS / "chat.png")
        chat_shot(page_of(browser, PHONE), app.url, DOCS / "chat-phone.png")
        wide = page_of(browser, {"width": 1280, "height": 900})
        diagnostics_shot(wide, app.url, DOCS / "diagnostics.png")
        browser.close()
    for name in ("chat.png", "chat-phone.png", "diagnostics.png"):
        print((DOCS / name).relative_to(ROOT))


if __name__ == "__main__":
    main()
