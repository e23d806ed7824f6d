"""Tool definitions, the streamed-call accumulator and the call checks (chat_core.tools)."""

from __future__ import annotations

import json

import pytest

from chat_core.errors import LimitError, ValidationError
from chat_core.events import ToolCallDelta
from chat_core.messages import ToolCall
from chat_core.tools import (
    EXAMPLE_TOOLS,
    MAX_ARGUMENT_CHARS,
    MAX_CALLS,
    MAX_RESULT_CHARS,
    ToolCallAccumulator,
    accumulate,
    chat_tools,
    check_call,
    check_result,
    dump_tools,
    error_result,
    parse_tools,
    pretty_arguments,
    responses_tools,
)

WEATHER = EXAMPLE_TOOLS["get_weather"]


def test_openai_shape_pieces_make_one_call() -> None:
    acc = accumulate(
        [
            ToolCallDelta(0, "call_a", "get_weather", ""),
            ToolCallDelta(0, "", "", '{"ci'),
            ToolCallDelta(0, "", "", 'ty": "Paris"}'),
        ]
    )
    assert acc.finished() == (ToolCall("call_a", "get_weather", '{"city": "Paris"}'),)


def test_parallel_calls_by_index_stay_apart() -> None:
    acc = accumulate(
        [
            ToolCallDelta(0, "call_a", "get_weather", '{"city":'),
            ToolCallDelta(1, "call_b", "get_weather", '{"city":'),
            ToolCallDelta(0, "", "", '"Paris"}'),
            ToolCallDelta(1, "", "", '"Oslo"}'),
        ]
    )
    assert [(c.id, c.arguments) for c in acc.finished()] == [
        ("call_a", '{"city":"Paris"}'),
        ("call_b", '{"city":"Oslo"}'),
    ]


def test_same_index_different_ids_are_two_calls() -> None:
    # Ollama-compatible servers send every call of a batch at index 0.
    acc = accumulate(
        [
            ToolCallDelta(0, "call_1", "get_weather", '{"city": "Paris"}'),
            ToolCallDelta(0, "call_2", "get_weather", '{"city": "Oslo"}'),
        ]
    )
    calls = acc.finished()
    assert [c.id for c in calls] == ["call_1", "call_2"]
    assert json.loads(calls[1].arguments) == {"city": "Oslo"}


def test_same_id_repeated_is_one_call() -> None:
    acc = accumulate(
        [ToolCallDelta(0, "call_1", "f", '{"a"'), ToolCallDelta(0, "call_1", "f", ": 1}")]
    )
    assert acc.finished() == (ToolCall("call_1", "f", '{"a": 1}'),)


def test_missing_ids_are_made_up_in_order() -> None:
    acc = accumulate([ToolCallDelta(0, "", "f", "{}"), ToolCallDelta(1, "", "g", "{}")])
    assert [c.id for c in acc.finished()] == ["call_0", "call_1"]


def test_calls_past_the_cap_are_counted_not_kept() -> None:
    acc = ToolCallAccumulator()
    for i in range(MAX_CALLS + 5):
        acc.feed(ToolCallDelta(i, f"call_{i}", "get_weather", '{"city": "X"}'))
    assert len(acc.finished()) == MAX_CALLS
    assert acc.dropped == 5


def test_arguments_past_the_cap_are_cut_and_marked() -> None:
    acc = ToolCallAccumulator()
    acc.feed(ToolCallDelta(0, "c", "f", "x" * (MAX_ARGUMENT_CHARS - 10)))
    call = acc.feed(ToolCallDelta(0, "", "", "y" * 100))
    assert call is not None and call.truncated
    assert len(call.arguments) == MAX_ARGUMENT_CHARS


def test_check_call_accepts_matching_arguments() -> None:
    check = check_call("get_weather", '{"city": "Paris"}', (WEATHER,))
    assert check.ok and check.arguments == {"city": "Paris"}


def test_check_call_marks_bad_json() -> None:
    check = check_call("get_weather", '{"city": ', (WEATHER,))
    assert not check.ok and check.problem is not None and "not JSON" in check.problem


def test_check_call_marks_an_undefined_tool() -> None:
    check = check_call("launch_rockets", "{}", (WEATHER,))
    assert check.problem == "`launch_rockets` is not a defined tool."


def test_check_call_marks_schema_mismatch_with_its_path() -> None:
    check = check_call("get_weather", '{"city": "Paris", "unit": "kelvin"}', (WEATHER,))
    assert check.problem is not None and "unit" in check.problem
    assert not check_call("get_weather", "{}", (WEATHER,)).ok  # city is required


def test_empty_arguments_mean_an_empty_object() -> None:
    spec = parse_tools('[{"name": "now", "description": "the time"}]')[0]
    assert check_call("now", "", (spec,)).ok


def test_parse_tools_round_trips() -> None:
    specs = tuple(EXAMPLE_TOOLS.values())
    text = dump_tools(specs)
    assert text is not None and parse_tools(text) == specs
    assert parse_tools(None) == () and parse_tools("  ") == ()


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("[{", "not JSON"),
        ('[{"name": "bad name"}]', "name"),
        ('[{"name": "f", "parameters": {"type": "nonsense"}}]', "not valid JSON Schema"),
        ('[{"name": "f", "parameters": {"type": "object", "required": "city"}}]', "JSON Schema"),
        ('[{"name": "f", "parameters": {"type": "string"}}]', "object"),
        ('[{"name": "f", "colour": 1}]', "unknown key"),
        ('[{"name": "f"}, {"name": "f"}]', "same name"),
        ("[3]", "JSON object"),
    ],
)
def test_parse_tools_refuses_bad_definitions(text: str, says: str) -> None:
    with pytest.raises(ValidationError) as info:
        parse_tools(text)
    assert says in str(info.value)


def test_provider_shapes() -> None:
    assert chat_tools((WEATHER,))[0]["function"]["name"] == "get_weather"
    shaped = responses_tools((WEATHER,))[0]
    assert shaped["type"] == "function" and shaped["parameters"] == WEATHER.parameters


def test_results_over_the_cap_are_refused() -> None:
    assert check_result("sunny") == "sunny"
    with pytest.raises(LimitError):
        check_result("x" * 1_000_000)
    assert len("x" * MAX_RESULT_CHARS) == len(check_result("x" * MAX_RESULT_CHARS))


def test_error_result_and_pretty_arguments() -> None:
    assert json.loads(error_result("no such city")) == {"error": "no such city"}
    assert pretty_arguments('{"a":1}') == '{\n  "a": 1\n}'
    assert pretty_arguments('{"a":') == '{"a":'
