"""The README's screenshots: ``.venv/bin/python -m tests.e2e.screenshots [chat] [diagnostics]``.

Runs the app like the browser suite does (offline back end, Debian's chromium)
and writes ``docs/chat.png`` and ``docs/diagnostics.png``.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import Page, expect, sync_playwright

from tests.e2e.harness import ROOT, WAIT_MS, ChatPage, launch_chromium, streamlit_app

DOCS = ROOT / "docs"
SHOTS = ("chat", "diagnostics")


def chat_shot(page: Page, url: str) -> Path:
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
    out = DOCS / "chat.png"
    page.screenshot(path=str(out))
    return out


def diagnostics_shot(page: Page, url: str) -> Path:
    ChatPage(page).open(url)
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Diagnostics").click()
    page.get_by_role("heading", name="Stream diagnostics").wait_for(timeout=WAIT_MS)
    page.get_by_label("Prompt or directive").fill("/stall 1.5 after 100\n/lorem 240")
    page.locator(".st-key-run_probe button").click()
    total = page.get_by_test_id("stMetricLabel").get_by_text("Total", exact=True)
    expect(total).to_be_visible(timeout=WAIT_MS)  # shown once the stream has finished
    expect(page.get_by_test_id("stVegaLiteChart")).to_have_count(2)
    page.wait_for_timeout(1000)  # chart transitions
    out = DOCS / "diagnostics.png"
    page.screenshot(path=str(out))
    return out


def main(argv: list[str]) -> None:
    wanted = argv or list(SHOTS)
    unknown = set(wanted) - set(SHOTS)
    if unknown:
        raise SystemExit(f"unknown screenshot {sorted(unknown)}; choose from {SHOTS}")
    DOCS.mkdir(exist_ok=True)
    with (
        tempfile.TemporaryDirectory() as workdir,
        streamlit_app(Path(workdir), tokens_per_second=40) as app,
        sync_playwright() as p,
    ):
        browser = launch_chromium(p)
        sizes = {"chat": (1280, 1000), "diagnostics": (1280, 1560)}
        for name in wanted:
            width, height = sizes[name]
            context = browser.new_context(viewport={"width": width, "height": height})
            context.set_default_timeout(WAIT_MS)
            shot = chat_shot if name == "chat" else diagnostics_shot
            print(shot(context.new_page(), app.url).relative_to(ROOT))
            context.close()
        browser.close()


if __name__ == "__main__":
    main(sys.argv[1:])
