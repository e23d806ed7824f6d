"""ToolCallDelta on wire v1 (``{"tool_call": {...}}``) and in the run stores' codec."""

from __future__ import annotations

import json

import pytest

from chat_core.errors import BackendError
from chat_core.events import ToolCallDelta
from chat_core.runs.codec import dump_event, load_event
from chat_core.wire import SSEMessage, SSEParser, decode_data, encode_event, payload_json


@pytest.mark.parametrize(
    "event",
    [
        ToolCallDelta(0, "call_1", "get_weather", ""),
        ToolCallDelta(1, "", "", '{"city": "P\u2028aris"}'),
        ToolCallDelta(0, "call_2", "f", "{}"),
    ],
)
def test_round_trip_over_the_wire_split_at_every_byte(event: ToolCallDelta) -> None:
    raw = encode_event("s1", 3, event)
    assert raw.isascii()
    for cut in range(len(raw) + 1):
        parser = SSEParser()
        items = parser.feed(raw[:cut]) + parser.feed(raw[cut:])
        [message] = items
        assert isinstance(message, SSEMessage)
        assert decode_data(message.data) == event


def test_first_piece_names_the_call_later_pieces_only_grow_it() -> None:
    assert json.loads(payload_json(ToolCallDelta(0, "c", "f", ""))) == {
        "tool_call": {"index": 0, "id": "c", "name": "f"}
    }
    assert json.loads(payload_json(ToolCallDelta(0, arguments="{"))) == {
        "tool_call": {"index": 0, "arguments": "{"}
    }


@pytest.mark.parametrize(
    "data",
    [
        '{"tool_call": "x"}',
        '{"tool_call": {"index": -1}}',
        '{"tool_call": {"index": true}}',
        '{"tool_call": {"index": 0, "arguments": 3}}',
    ],
)
def test_malformed_tool_calls_are_server_errors(data: str) -> None:
    with pytest.raises(BackendError):
        decode_data(data)


def test_codec_keeps_every_field() -> None:
    event = ToolCallDelta(2, "call_9", "search_web", '{"query": "x"}')
    assert load_event(dump_event(event)) == event


def test_history_with_calls_and_results_round_trips_on_the_wire() -> None:
    from chat_core.messages import ChatMessage, ToolCall, build_conversation, parse_history

    messages = [
        ChatMessage("user", "weather?"),
        ChatMessage(
            "assistant", "", tool_calls=(ToolCall("c1", "get_weather", '{"city": "Oslo"}'),)
        ),
        ChatMessage("tool", "cold", tool_call_id="c1"),
    ]
    assert parse_history([m.to_wire() for m in messages]) == messages
    conversation = build_conversation(None, [m.to_wire() for m in messages])
    assert conversation.messages == tuple(messages)
    assert messages[1].to_dict()["content"] is None  # null beside tool calls, as the API takes
    assert messages[2].to_dict() == {"role": "tool", "tool_call_id": "c1", "content": "cold"}


def test_view_code_shows_the_tools_and_the_tool_loop() -> None:
    from chat_core.messages import ChatMessage, Conversation, GenerationParams, ToolCall
    from chat_core.settings import Settings
    from chat_core.tools import EXAMPLE_TOOLS, dump_tools
    from chat_core.workbench.code import view_code

    call = ToolCall("c1", "get_weather", '{"city": "Oslo"}')
    conversation = Conversation(
        (
            ChatMessage("user", "weather?"),
            ChatMessage("assistant", "", tool_calls=(call,)),
            ChatMessage("tool", "cold", tool_call_id="c1"),
        )
    )
    params = GenerationParams(tools=dump_tools([EXAMPLE_TOOLS["get_weather"]]))
    for api in ("chat", "responses"):
        settings = Settings(openai_base_url="http://127.0.0.1:9/v1", openai_api=api)
        python, curl = view_code(settings, conversation, params)
        assert "get_weather" in python.source and "tools=" in python.source
        assert '"tools"' in curl.source
        expected = '"tool_call_id": "c1"' if api == "chat" else '"function_call_output"'
        assert expected in curl.source
    remote = Settings(backend="remote", remote_url="http://127.0.0.1:9")
    [gateway] = view_code(remote, conversation, params)
    body = gateway.source.split("<<'JSON'\n", 1)[1].rsplit("\nJSON", 1)[0]
    sent = json.loads(body)
    assert "message" not in sent and sent["tools"][0]["name"] == "get_weather"
    assert sent["history"][-1] == {"role": "tool", "content": "cold", "tool_call_id": "c1"}


def test_the_diagnostics_event_log_shows_tool_calls() -> None:
    from chat_core.diagnostics import event_records
    from chat_core.events import Done
    from chat_core.runs import Run

    run = Run("r1")
    run.append(ToolCallDelta(0, "c1", "get_weather", ""))
    run.append(ToolCallDelta(0, arguments="{}"))
    run.append(Done("tool_calls", tool_names=("get_weather",)))
    rows = event_records(run)
    assert [r.type for r in rows] == ["tool_call", "tool_call", "done"]
    assert json.loads(rows[1].data) == {"tool_call": {"index": 0, "arguments": "{}"}}
