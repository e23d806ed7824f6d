"""Finish notes and badges: every finish but a plain stop explained beside the answer."""

from __future__ import annotations

from chat_core.chat import ChatTurn, answer_badge, finish_note
from chat_core.chat.notes import tool_label
from chat_core.chat.status import STATUS_STYLES
from chat_core.events import Done, ReasoningDelta, TextDelta, Usage
from chat_core.metrics import measure


def test_each_finish_has_its_words() -> None:
    assert finish_note("stop", text="Hi") is None
    assert finish_note(None, text="") is None
    blocked = finish_note("content_filter", text="")
    assert blocked is not None and blocked.message == "Blocked by the provider's content filter."
    partly = finish_note("content_filter", text="Once")
    assert partly is not None and "rest was blocked" in partly.message
    tool = finish_note("tool_calls", text="", tool_names=("get_weather",))
    assert tool is not None
    assert tool.message == "The model asked to call `get_weather`; this app runs no tools."
    two = finish_note("tool_calls", text="", tool_names=("a", "b", "a"))
    assert two is not None and "`a` and `b`;" in two.message
    cut = finish_note("length", text="Some text")
    assert cut is not None and "token limit" in cut.message and "Continue" in cut.message


def test_an_empty_answer_whose_budget_went_to_reasoning() -> None:
    spent = finish_note("length", text="  ", reasoning_tokens=512)
    assert spent is not None
    assert "budget went to reasoning (512 reasoning tokens)" in spent.message
    assert "Max tokens" in spent.message
    shown = finish_note("length", text="", reasoning="I thought")
    assert shown is not None and "went to reasoning" in shown.message
    silent = finish_note("stop", text="", reasoning="I thought")
    assert silent is not None and "no answer" in silent.message
    assert finish_note("length", text="") is not None  # no reasoning: just cut


def test_tool_names_are_inert_in_markdown() -> None:
    assert tool_label("evil`name\n**x**") == "`evil_name_**x**`"
    assert tool_label("``") == "`a tool`"
    assert len(tool_label("x" * 500)) == 64 + 2


def test_badges_for_refused_and_the_finish_statuses() -> None:
    for key in ("refused", "length", "content_filter", "tool_calls"):
        assert key in STATUS_STYLES
    assert answer_badge("complete") == answer_badge("complete", "stop") == ""
    assert "cut short" in answer_badge("complete", "length")
    assert "filtered" in answer_badge("complete", "content_filter")
    assert "tool call" in answer_badge("complete", "tool_calls")
    assert "refused" in answer_badge("refused", "stop")
    assert "failed" in answer_badge("error", "error")


def test_a_turn_explains_its_finish_and_a_cut_one_can_continue() -> None:
    events = [ReasoningDelta("hm"), Usage(1, 9, 9), Done("length")]
    metrics = measure(0.0, events, [0.1, 0.2, 0.2])
    empty = ChatTurn("assistant", "", "complete", metrics, reasoning="hm")
    note = empty.note()
    assert note is not None and "9 reasoning tokens" in note.message
    assert empty.resumable  # Retry is offered; Continue only with text (the page decides)
    cut = ChatTurn(
        "assistant",
        "text",
        "complete",
        measure(0.0, [TextDelta("text"), Done("length")], [0.1, 0.2]),
    )
    assert cut.resumable and cut.finish_reason == "length"
    done = ChatTurn(
        "assistant", "text", "complete", measure(0.0, [TextDelta("t"), Done()], [0.1, 0.2])
    )
    assert not done.resumable and done.note() is None
    assert ChatTurn("user", "", "complete").note() is None
