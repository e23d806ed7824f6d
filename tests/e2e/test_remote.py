"""The remote back end, chosen in the sidebar, streaming through a running gateway."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from chat_core.backends.offline import tokenize
from tests.e2e.harness import METRICS, ChatPage, Server

pytestmark = pytest.mark.e2e


def use_gateway(chat: ChatPage, gateway: Server) -> None:
    sidebar = chat.open_settings()
    sidebar.get_by_label("Remote SSE URL").fill(f"{gateway.url}/api/chat/stream")
    sidebar.get_by_label("Remote SSE URL").press("Enter")
    # auto already resolves to remote; wait for that rerun to end before opening the select,
    # or the rerun closes the dropdown under the click.
    expect(sidebar.get_by_text("In use: remote")).to_be_visible()
    option = chat.page.get_by_role("option", name="remote", exact=True)
    for _ in range(5):  # a rerun still drawing can close the dropdown under the click
        sidebar.get_by_test_id("stSelectbox").filter(has_text="Back end").click()
        try:
            option.click(timeout=5_000)
            break
        except PlaywrightTimeout:
            continue
    else:
        raise AssertionError("the Back end select never offered remote")
    expect(
        chat.page.get_by_test_id("stCaptionContainer").filter(has_text="Back end")
    ).to_contain_text("Back end remote")


def test_answer_streams_through_the_gateway(chat: ChatPage, gateway_server: Server) -> None:
    use_gateway(chat, gateway_server)
    echo = " ".join(f"g{i}" for i in range(40))

    # The gateway cuts the connection once after 10 events; the back end resumes.
    chat.send(f"/drop after 10\n/echo {echo}")

    chat.wait_idle(answers=1)
    # Resumed, so complete: the whole text once, no "interrupted" badge.
    answer = chat.answers.last
    expect(answer.get_by_test_id("stMarkdownContainer").first).to_have_text(echo)
    caption = answer.locator('[data-testid="stCaptionContainer"]')
    expect(caption).to_have_text(METRICS)
    expect(caption).to_contain_text(f"· {len(tokenize(echo))} tokens")
    for badge in ("stopped", "interrupted", "failed"):
        expect(caption).not_to_contain_text(badge)
    # The gateway's log says the stream was cut and resumed (not asked again).
    log = gateway_server.log_tail(50_000)
    dropped = re.findall(r"stream (\w+): dropped by /drop after 10 events", log)
    assert dropped, f"the gateway did not drop the stream:\n{log}"
    assert f"stream {dropped[-1]}: resume after seq 10" in log, log
