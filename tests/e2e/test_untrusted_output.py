"""Model output is untrusted: HTML in it stays text and images in it are never fetched.

The offline model's ``/echo`` makes the answer exactly the payload, so the same
text goes through the streaming render and the history render (and the user's
own message shows it too).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, Request, Route, expect

from tests.e2e.harness import ChatPage, Server

pytestmark = pytest.mark.e2e

TRACKER = "tracker.example"
PAYLOAD = f"""Here is the output you asked for.

<script>window.__pwned = 'script'; document.title = 'pwned'</script>

<img src="x" onerror="window.__pwned = 'img'; document.title = 'pwned'">

![tracker](http://{TRACKER}/inline.png)

![tracker by reference][pixel]

<img src="http://{TRACKER}/raw.png"> <iframe src="http://{TRACKER}/frame"></iframe>

[pixel]: http://{TRACKER}/reference.png

The end of the output."""

# Anything active or fetching that the payload could have turned into, inside the messages.
ACTIVE = ", ".join(
    f'[data-testid="stChatMessage"] {tag}'
    for tag in ("script", "img[onerror]", "iframe", f'img[src*="{TRACKER}"]')
)


@pytest.fixture
def tracker_requests(page: Page) -> list[str]:
    """Requests to the outside host: intercepted (and refused) before they leave."""
    seen: list[str] = []

    def refuse(route: Route) -> None:
        seen.append(route.request.url)
        route.abort()

    def note(request: Request) -> None:
        if TRACKER in request.url:
            seen.append(request.url)

    page.route(re.compile(rf"^https?://{re.escape(TRACKER)}(/|$)"), refuse)
    page.on("request", note)
    return seen


def test_html_and_images_in_model_output_are_inert(
    page: Page, app_server: Server, tracker_requests: list[str]
) -> None:
    chat = ChatPage(page).open(app_server.url)
    title = page.title()

    chat.send(f"/echo {PAYLOAD}")
    chat.wait_idle(answers=1)

    answer = chat.answers.last
    expect(answer).to_contain_text("Here is the output you asked for.")
    expect(answer).to_contain_text("The end of the output.")
    assert page.evaluate("() => window.__pwned") is None, "a script from the model output ran"
    assert page.title() == title
    active = page.locator(ACTIVE)
    assert active.count() == 0, active.first.evaluate("e => e.outerHTML")
    assert tracker_requests == [], f"the page fetched from the outside host: {tracker_requests}"
