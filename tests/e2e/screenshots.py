"""The README's chat screenshot: ``.venv/bin/python -m tests.e2e.screenshots``.

Runs the app like the browser suite does (offline back end at its default 40
tokens/s, Debian's chromium) and writes ``docs/chat.png``. (The diagnostics
page's screenshot, ``docs/diagnostics.png``, is made with that page's work.)
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from tests.e2e.harness import ROOT, WAIT_MS, ChatPage, launch_chromium, streamlit_app

OUT = ROOT / "docs" / "chat.png"


def chat_shot(page: Page, url: str) -> None:
    chat = ChatPage(page).open(url)
    chat.send("How do tokens get from the model to the screen?")
    chat.wait_idle(answers=1)
    # The second answer is stopped mid-stream: its badge, Retry and Continue.
    chat.send("/lorem 300")
    page.wait_for_function(
        "() => (document.querySelector('.st-key-streaming-answer')?.innerText || '').length > 300"
    )
    chat.button("stop").click()
    chat.wait_idle(answers=2)
    page.wait_for_timeout(1000)  # let the scroll-to-bottom animation settle
    page.screenshot(path=str(OUT))


def main() -> None:
    OUT.parent.mkdir(exist_ok=True)
    with (
        tempfile.TemporaryDirectory() as workdir,
        streamlit_app(Path(workdir), tokens_per_second=40) as app,
        sync_playwright() as p,
    ):
        browser = launch_chromium(p)
        context = browser.new_context(viewport={"width": 1280, "height": 1000})
        context.set_default_timeout(WAIT_MS)
        chat_shot(context.new_page(), app.url)
        browser.close()
    print(OUT.relative_to(ROOT))


if __name__ == "__main__":
    main()
