"""Provider stream shapes -> events, chunk by chunk, from JSON as the providers send it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chat_core import Done, ReasoningDelta, StreamError, TextDelta, Usage
from chat_core.backends.openai_chat import ChatChunkReader
from chat_core.backends.openai_errors import shorten
from chat_core.backends.openai_responses import ResponsesEventReader
from chat_core.events import StreamEvent, ToolCallDelta


def chunk(delta: dict[str, Any] | None, finish: str | None = None, **extra: Any) -> dict[str, Any]:
    choice: dict[str, Any] = {"index": 0, "finish_reason": finish}
    if delta is not None:
        choice["delta"] = delta
    return {"id": "c1", "object": "chat.completion.chunk", "choices": [choice], **extra}


def read(chunks: list[dict[str, Any]]) -> list[StreamEvent]:
    reader = ChatChunkReader()
    out: list[StreamEvent] = []
    for c in chunks:
        out += reader.read(json.loads(json.dumps(c)))
    return out + reader.end()


USAGE = {"prompt_tokens": 10, "completion_tokens": 30, "total_tokens": 40}


def test_openai_text_with_usage_in_a_last_empty_chunk() -> None:
    usage = {**USAGE, "completion_tokens_details": {"reasoning_tokens": 12}}
    events = read(
        [
            chunk({"role": "assistant", "content": "", "refusal": None}),
            chunk({"content": "Hi"}),
            chunk({}, "stop"),
            {"id": "c1", "choices": [], "usage": usage},
        ]
    )
    assert events == [TextDelta("Hi"), Usage(10, 30, 12), Done("stop")]


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning"])
def test_reasoning_fields(field: str) -> None:
    events = read(
        [
            chunk({"role": "assistant", "content": None, field: "Let me"}),
            chunk({"content": None, field: " think."}),
            chunk({"content": "Four.", field: None}),
            chunk({}, "stop"),
        ]
    )
    assert events == [
        ReasoningDelta("Let me"),
        ReasoningDelta(" think."),
        TextDelta("Four."),
        Done(),
    ]


def test_a_server_sending_both_reasoning_fields_is_not_doubled() -> None:
    events = read([chunk({"reasoning": "hm", "reasoning_content": "hm"}), chunk({}, "stop")])
    assert events == [ReasoningDelta("hm"), Done()]


def test_mistral_typed_parts() -> None:
    thinking = {"type": "thinking", "thinking": [{"type": "text", "text": "Dolphins are"}]}
    events = read(
        [
            chunk({"role": "assistant", "content": [thinking]}),
            chunk({"content": [{"type": "text", "text": "Yes, "}]}),
            chunk({"content": "they are."}),  # plain strings after thinking ends
            chunk({}, "stop"),
        ]
    )
    assert events == [
        ReasoningDelta("Dolphins are"),
        TextDelta("Yes, "),
        TextDelta("they are."),
        Done(),
    ]


def test_think_tags_split_across_chunks() -> None:
    pieces = ["<thi", "nk>\nPlan", " it.</th", "ink>\n\n", "Done", " now."]
    events = read([chunk({"content": p}) for p in pieces] + [chunk({}, "stop")])
    assert events == [
        ReasoningDelta("\nPlan"),
        ReasoningDelta(" it."),
        TextDelta("Done"),
        TextDelta(" now."),
        Done(),
    ]


def test_refusal_is_the_answer_and_flags_done() -> None:
    events = read(
        [chunk({"content": None, "refusal": "I can't"}), chunk({"refusal": " help."}, "stop")]
    )
    assert events == [TextDelta("I can't"), TextDelta(" help."), Done("stop", refused=True)]


def test_tool_calls_stream_as_pieces_and_name_the_tools() -> None:
    first = {"index": 0, "id": "call_1", "type": "function"}
    first["function"] = {"name": "get_weather", "arguments": ""}
    second = {"index": 1, "id": "c2", "function": {"name": "search", "arguments": "{}"}}
    events = read(
        [
            chunk({"content": None, "tool_calls": [first]}),
            chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"a": 1}'}}]}),
            chunk({"tool_calls": [second]}),
            chunk({}, "tool_calls"),
        ]
    )
    assert events == [
        ToolCallDelta(0, "call_1", "get_weather", ""),
        ToolCallDelta(0, "", "", '{"a": 1}'),
        ToolCallDelta(1, "c2", "search", "{}"),
        Done("tool_calls", tool_names=("get_weather", "search")),
    ]


def test_ollama_like_calls_at_index_0_are_told_apart_by_id() -> None:
    calls = [
        {"index": 0, "id": f"call_{i}", "function": {"name": "f", "arguments": "{}"}}
        for i in (1, 2)
    ]
    events = read([chunk({"tool_calls": calls}), chunk({}, "stop")])
    assert events[-1] == Done("tool_calls", tool_names=("f", "f"))


def test_responses_function_call_arguments_stream_as_pieces() -> None:
    item = {"type": "function_call", "name": "get_weather", "call_id": "call_9", "arguments": ""}
    events, _ = responses(
        [
            {"type": "response.output_item.added", "output_index": 1, "item": item},
            {"type": "response.function_call_arguments.delta", "output_index": 1, "delta": '{"ci'},
            {
                "type": "response.function_call_arguments.delta",
                "output_index": 1,
                "delta": 'ty": 1}',
            },
            {
                "type": "response.output_item.done",
                "output_index": 1,
                "item": item | {"arguments": '{"city": 1}'},
            },
            completed(),
        ]
    )
    assert events[:3] == [
        ToolCallDelta(1, "call_9", "get_weather", ""),
        ToolCallDelta(1, "", "", '{"ci'),
        ToolCallDelta(1, "", "", 'ty": 1}'),
    ]
    assert events[-1] == Done("tool_calls", tool_names=("get_weather",))


def test_responses_arguments_sent_only_whole_at_the_end() -> None:
    item = {"type": "function_call", "name": "f", "call_id": "c", "arguments": ""}
    events, _ = responses(
        [
            {"type": "response.output_item.added", "output_index": 0, "item": item},
            {
                "type": "response.output_item.done",
                "output_index": 0,
                "item": item | {"arguments": "{}"},
            },
            completed(),
        ]
    )
    assert ToolCallDelta(0, "", "", "{}") in events


def test_azure_filter_chunks_and_content_filter_finish() -> None:
    safe = {"hate": {"filtered": False, "severity": "safe"}}
    events = read(
        [
            {"id": "", "choices": [], "created": 0, "model": "", "object": "",
             "prompt_filter_results": [{"prompt_index": 0, "content_filter_results": safe}]},
            chunk({"role": "assistant", "content": ""}),
            chunk({"content": "Once"}, content_filter_results=safe),
            {"id": "c1", "choices": [{"index": 0, "content_filter_results": safe}]},
            chunk({}, "content_filter"),
        ]
    )  # fmt: skip
    assert events == [TextDelta("Once"), Done("content_filter")]


def test_usage_in_every_chunk_gives_one_usage_the_last() -> None:
    events = read(
        [
            chunk({"content": "A"}, usage={"prompt_tokens": 10, "completion_tokens": 1}),
            chunk({"content": "B"}, usage={"prompt_tokens": 10, "completion_tokens": 2}),
            chunk({}, "stop", usage={"prompt_tokens": 10, "completion_tokens": 3}),
        ]
    )
    assert events == [TextDelta("A"), TextDelta("B"), Usage(10, 3), Done()]


def test_length_finish_and_unknown_finishes() -> None:
    assert read([chunk({"content": "x"}, "length")])[-1] == Done("length")
    assert read([chunk({"content": "x"}, "eos")])[-1] == Done("stop")
    assert read([chunk({"content": "x"})])[-1] == Done("stop")  # a stream without a finish


def test_other_choices_are_not_the_answer() -> None:
    other = {
        "id": "c1",
        "choices": [{"index": 1, "delta": {"content": "no"}, "finish_reason": None}],
    }
    assert read([other, chunk({"content": "yes"}, "stop")]) == [TextDelta("yes"), Done()]


def responses(events: list[dict[str, Any]]) -> tuple[list[StreamEvent], bool]:
    reader = ResponsesEventReader()
    out: list[StreamEvent] = []
    for e in events:
        out += reader.read(e)
    return out, reader.done


def completed(status: str = "completed", **extra: Any) -> dict[str, Any]:
    usage = {
        "input_tokens": 5,
        "output_tokens": 50,
        "output_tokens_details": {"reasoning_tokens": 40},
    }
    return {"type": f"response.{status}", "response": {"status": status, "usage": usage, **extra}}


def summary(index: int, delta: str) -> dict[str, Any]:
    kind = "response.reasoning_summary_text.delta"
    return {"type": kind, "item_id": "rs_1", "summary_index": index, "delta": delta}


def test_responses_summary_text_and_usage() -> None:
    events, done = responses(
        [
            {"type": "response.created", "response": {"status": "in_progress"}},
            {"type": "response.output_item.added", "item": {"type": "reasoning", "id": "rs_1"}},
            summary(0, "**Plan**"),
            summary(1, "Next"),
            {"type": "response.output_text.delta", "item_id": "msg_1", "delta": "Hi"},
            {"type": "response.output_text.done", "item_id": "msg_1", "text": "Hi"},
            completed(),
        ]
    )  # fmt: skip
    assert done
    assert events == [
        ReasoningDelta("**Plan**"),
        ReasoningDelta("\n\nNext"),
        TextDelta("Hi"),
        Usage(5, 50, 40),
        Done("stop"),
    ]


def test_responses_incomplete_refusal_tools_and_failures() -> None:
    why = {"reason": "max_output_tokens"}
    assert responses([completed("incomplete", incomplete_details=why)])[0][-1] == Done("length")
    why = {"reason": "content_filter"}
    assert responses([completed("incomplete", incomplete_details=why)])[0][-1] == Done(
        "content_filter"
    )
    refusal, _ = responses([{"type": "response.refusal.delta", "delta": "No."}, completed()])
    assert refusal[0] == TextDelta("No.") and refusal[-1] == Done("stop", refused=True)
    item = {"type": "function_call", "name": "get_weather", "arguments": ""}
    tools, _ = responses([{"type": "response.output_item.added", "item": item}, completed()])
    assert tools[-1] == Done("tool_calls", tool_names=("get_weather",))
    assert tools[0] == ToolCallDelta(0, "", "get_weather", "")
    error = {"code": "server_error", "message": "The model failed."}
    failed, done = responses(
        [{"type": "response.failed", "response": {"status": "failed", "error": error}}]
    )
    assert done and failed == [
        StreamError("server", "The model server reported an error: The model failed.", True),
        Done("error"),
    ]
    bare, _ = responses([{"type": "error", "code": "rate_limit_exceeded", "message": "Slow down."}])
    assert bare[0].code == "rate_limit" and bare[-1] == Done("error")  # type: ignore[union-attr]
    assert responses([{"type": "response.output_text.delta", "delta": "cut"}]) == (
        [TextDelta("cut")],
        False,
    )


@pytest.mark.parametrize("limit", [20, 37, 50, 200])
def test_messages_are_shortened_at_a_word_boundary(limit: int) -> None:
    text = "The model refused: " + " ".join(["supercalifragilistic"] * 40)
    short = shorten(text, limit)
    assert len(short) <= limit and short.endswith("\u2026")
    kept = short[:-1]
    assert text.startswith(kept) and text[len(kept)] in " :", short  # never mid-word


def test_short_messages_are_kept_whole_on_one_line() -> None:
    assert shorten("Bad\n  request.", 200) == "Bad request."
    assert shorten("x" * 300, 10) == "x" * 9 + "\u2026"  # one long word: nothing better to cut at
