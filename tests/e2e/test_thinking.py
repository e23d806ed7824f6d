"""The model's reasoning in the browser: live in its own element above the answer,
"Thinking..." while it streams, collapsed to "Thought for N s" once the answer starts and on
the finished answer (the offline model's ``/think S``)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.harness import WAIT_MS, ChatPage

pytestmark = pytest.mark.e2e

_THINKING = '[data-testid="stChatMessage"] [data-testid="stExpander"]'


def thinking_state(chat: ChatPage) -> dict | None:
    """The first thinking element's label, whether it is open, and its text; None if none."""
    return chat.page.evaluate(
        """s => {
            const el = document.querySelector(s);
            if (!el) return null;
            const details = el.querySelector('details');
            return {
                label: el.querySelector('summary')?.innerText.trim() ?? '',
                open: details ? details.open : null,
                text: el.innerText,
            };
        }""",
        _THINKING,
    )


def test_reasoning_streams_above_the_answer_then_collapses(chat: ChatPage) -> None:
    chat.send("/think 3\n/echo The answer comes after the thinking.")

    # While it thinks: an open "Thinking..." element whose text grows, no answer text yet.
    seen: list[dict] = []
    deadline_ms = WAIT_MS
    while deadline_ms > 0:
        state = thinking_state(chat)
        if state is not None:
            seen.append(state)
            if "Thought for" in state["label"]:
                break
        chat.page.wait_for_timeout(50)
        deadline_ms -= 50
    thinking = [s for s in seen if s["label"].startswith("Thinking")]
    assert len(thinking) >= 3, f"no live thinking element: {seen[:3]}"
    assert all(s["open"] for s in thinking), "the thinking element was collapsed while thinking"
    lengths = [len(s["text"]) for s in thinking]
    assert len(set(lengths)) >= 2 and lengths == sorted(lengths), "reasoning did not grow"
    assert "The user wrote" in thinking[-1]["text"]

    # Once the answer starts: collapsed, labelled with how long it took.
    chat.wait_idle(answers=1)
    answer = chat.answers.last
    expect(answer).to_contain_text("The answer comes after the thinking.")
    element = answer.locator('[data-testid="stExpander"]')
    expect(element).to_have_count(1)
    summary = element.locator("summary")
    expect(summary).to_have_text(re.compile(r"Thought for (\d+ s|a moment)"))
    assert thinking_state(chat)["open"] is False, "the finished answer's thinking is open"
    answer_text = answer.locator('[data-testid="stMarkdownContainer"]').last.inner_text()
    assert "The user wrote" not in answer_text  # reasoning is not in the answer
    caption = answer.locator('[data-testid="stCaptionContainer"]').first
    expect(caption).to_contain_text("first thought")
    expect(caption).to_contain_text("reasoning)")

    # Opening it shows the reasoning.
    summary.click()
    expect(element).to_contain_text("The user wrote")
