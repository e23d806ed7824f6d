"""What a user sees while an answer streams: growth, cursor, metrics, scrolling, the input.

Streams are made slow where a test needs to watch them with ``/stall`` directives,
not a low token rate: a stall is a window of known length, so the checks do not
depend on how fast a busy machine happens to be.
"""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from chat_core.backends.offline import tokenize
from tests.e2e.harness import CURSOR, METRICS, WAIT_MS, ChatPage

pytestmark = pytest.mark.e2e


def words(n: int) -> str:
    return " ".join(f"w{i}" for i in range(n))


def watch_stream(chat: ChatPage, probe: str | None = None) -> list:
    """Samples (the streaming text, or ``probe``'s result) every ~50 ms until the answer is done."""
    chat.wait_streaming()
    samples = []
    deadline = time.monotonic() + WAIT_MS / 1000
    while time.monotonic() < deadline:
        sample = chat.page.evaluate(probe) if probe else chat.streaming_text()
        if sample is None:  # the streaming element is gone: the answer is in the history
            return samples
        samples.append(sample)
        chat.page.wait_for_timeout(50)
    raise AssertionError(f"the answer was still streaming after {WAIT_MS / 1000:.0f} s")


def test_answer_grows_with_a_cursor_then_shows_metrics(chat: ChatPage) -> None:
    echo = words(60)
    chat.send(f"/stall 1 after 10\n/stall 1 after 25\n/stall 1 after 40\n/echo {echo}")

    seen = watch_stream(chat)

    lengths = [len(s.rstrip(CURSOR).rstrip()) for s in seen]
    assert len(set(lengths)) >= 3, f"the answer did not visibly grow: {sorted(set(lengths))}"
    assert lengths == sorted(lengths), "the streaming answer shrank while streaming"
    assert any(s.rstrip().endswith(CURSOR) for s in seen), "no cursor while streaming"
    chat.wait_idle(answers=1)
    answer = chat.answers.last
    expect(answer).to_contain_text("w59")
    main = chat.page.get_by_role("main")
    expect(main).to_contain_text("w59")
    expect(main).not_to_contain_text(CURSOR)
    caption = answer.locator('[data-testid="stCaptionContainer"]')
    expect(caption).to_have_text(METRICS)
    expect(caption).to_contain_text(f"· {len(tokenize(echo))} tokens")


# The scroller that holds the streaming answer: its nearest scrollable ancestor.
SCROLL_PROBE = """() => {
    const answer = document.querySelector('.st-key-streaming-answer');
    if (!answer) return null;
    let el = answer.parentElement;
    while (el && !(['auto', 'scroll'].includes(getComputedStyle(el).overflowY)
                   && el.scrollHeight > el.clientHeight)) el = el.parentElement;
    el = el || document.scrollingElement;
    const input = document.querySelector('[data-testid="stChatInput"]');
    return {
        gap: el.scrollHeight - el.scrollTop - el.clientHeight,
        overflow: el.scrollHeight - el.clientHeight,
        height: el.clientHeight,
        answerBottom: answer.getBoundingClientRect().bottom,
        // The chat input floats over the bottom of the scroller: text under it is hidden.
        visibleBottom: (input || el).getBoundingClientRect()[input ? 'top' : 'bottom'],
        length: answer.innerText.length,
    };
}"""


def test_long_answer_keeps_its_end_in_view(chat: ChatPage) -> None:
    # The stall lets the scroll settle while the answer is still streaming.
    chat.send("/stall 2 after 450\n/lorem 600")

    samples = watch_stream(chat, SCROLL_PROBE)

    long = [s for s in samples if s["overflow"] > s["height"]]
    assert long, f"the answer never outgrew the window: {samples[-1] if samples else None}"
    worst = max(long, key=lambda s: s["gap"])
    # A page that does not follow falls thousands of pixels behind; allow for smooth scrolling.
    assert worst["gap"] < worst["height"], f"the page fell a screen behind the answer: {worst}"
    settled = [s for s in long if s["gap"] < 60 and s["answerBottom"] <= s["visibleBottom"] + 40]
    assert settled, f"the end of the answer was never in view while streaming: {long[-5:]}"


def test_an_answer_streams_in_the_run_that_takes_its_prompt(page, app_server) -> None:
    """Two script runs per answer (the prompt's, which streams, and the final redraw), not three;
    the new chat is listed, and named in the URL, while it streams."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    kinds: list[str | None] = []

    def on_socket(ws) -> None:
        def got(payload: str | bytes) -> None:
            if isinstance(payload, bytes):
                msg = ForwardMsg()
                msg.ParseFromString(payload)
                kinds.append(msg.WhichOneof("type"))

        ws.on("framereceived", got)

    page.on("websocket", on_socket)
    chat = ChatPage(page).open(app_server.url)
    before = len(kinds)
    chat.send("/stall 2 after 3\n/echo one two three four five six")
    chat.wait_streaming()
    expect(chat.sidebar().locator(".st-key-chat-list")).to_contain_text("/stall 2")
    assert "c=" in page.url, "a reload mid-answer would not find this chat"
    chat.wait_idle(answers=1)
    page.wait_for_timeout(500)  # the final run's last messages
    runs = kinds[before:].count("new_session")
    assert runs == 2, f"{runs} script runs for one answer: {kinds[before:]}"
