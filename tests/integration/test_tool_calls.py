"""Tool calls over the real ``openai`` SDK against the stub, in both APIs' shapes and
Ollama's: the tools go in the request, the calls stream as ToolCallDelta pieces, the
results go back as ``tool`` messages / ``function_call_output`` items and the next
answer uses them."""

from __future__ import annotations

from collections.abc import Iterator

import openai
import pytest

from chat_core import ChatMessage, Conversation, GenerationParams, answer_text
from chat_core.backends.openai import OpenAIBackend
from chat_core.events import Done, StreamEvent, ToolCallDelta
from chat_core.openai_stub import create_app
from chat_core.tools import EXAMPLE_TOOLS, accumulate, chat_tools, dump_tools, run_calculator
from tests.support.servers import serve_app

pytestmark = pytest.mark.integration

WEATHER = EXAMPLE_TOOLS["get_weather"]
PARAMS = GenerationParams(tools=dump_tools([WEATHER, EXAMPLE_TOOLS["calculator"]]))


@pytest.fixture(scope="module")
def stub_url() -> Iterator[str]:
    with serve_app(create_app(tokens_per_second=5000)) as url:
        yield url


def stream(stub_url: str, api: str, model: str, conversation: Conversation) -> list[StreamEvent]:
    backend = OpenAIBackend(api_key="k", base_url=stub_url + "/v1", model=model, api=api)  # type: ignore[arg-type]
    return list(backend.stream(conversation, PARAMS))


@pytest.mark.parametrize(("api", "model"), [("chat", "gpt-test"), ("responses", "gpt-test")])
def test_a_weather_call_streams_and_its_result_gets_the_answer(
    stub_url: str, api: str, model: str
) -> None:
    prompt = Conversation((ChatMessage("user", "What is the weather in Paris?"),))
    events = stream(stub_url, api, model, prompt)
    pieces = [e for e in events if isinstance(e, ToolCallDelta)]
    assert len(pieces) > 2  # the arguments came in pieces
    [call] = accumulate(pieces).finished()
    assert call.name == "get_weather" and '"Paris"' in call.arguments
    assert events[-1] == Done("tool_calls", tool_names=("get_weather",))
    answered = Conversation(
        (
            *prompt.messages,
            ChatMessage("assistant", "", tool_calls=(call,)),
            ChatMessage("tool", "18 C and sunny", tool_call_id=call.id),
        )
    )
    final = stream(stub_url, api, model, answered)
    assert "18 C and sunny" in answer_text(final)
    assert final[-1] == Done("stop")


def test_ollama_like_parallel_calls_at_index_0_are_two_calls(stub_url: str) -> None:
    prompt = Conversation(
        (
            ChatMessage(
                "user",
                '/tool get_weather {"city": "Paris"}\n/tool get_weather {"city": "Oslo"}\nboth',
            ),
        )
    )
    events = stream(stub_url, "chat", "ollama-test", prompt)
    pieces = [e for e in events if isinstance(e, ToolCallDelta)]
    assert {p.index for p in pieces} == {0}
    calls = accumulate(pieces).finished()
    assert [c.arguments for c in calls] == ['{"city": "Paris"}', '{"city": "Oslo"}']
    assert calls[0].id != calls[1].id
    assert events[-1] == Done("tool_calls", tool_names=("get_weather", "get_weather"))


@pytest.mark.parametrize("api", ["chat", "responses"])
def test_the_calculator_answers_a_multi_step_loop(stub_url: str, api: str) -> None:
    messages: list[ChatMessage] = [ChatMessage("user", "Compute (2 + 3) * 4, then 6 * 7.")]
    for _ in range(5):  # a step cap, as the page has
        events = stream(stub_url, api, "gpt-test", Conversation(tuple(messages)))
        if events[-1] != Done("tool_calls", tool_names=("calculator",)):
            break
        calls = accumulate([e for e in events if isinstance(e, ToolCallDelta)]).finished()
        messages.append(ChatMessage("assistant", "", tool_calls=calls))
        messages += [
            ChatMessage("tool", run_calculator(c.arguments), tool_call_id=c.id) for c in calls
        ]
    answer = answer_text(events)
    assert '"result": 20' in answer and '"result": 42' in answer
    assert sum(m.role == "tool" for m in messages) == 2


def test_the_raw_chunks_have_openais_shape(stub_url: str) -> None:
    client = openai.OpenAI(api_key="k", base_url=stub_url + "/v1")
    with client.chat.completions.create(
        model="gpt-test",
        messages=[{"role": "user", "content": "weather in Oslo?"}],
        tools=chat_tools((WEATHER,)),  # type: ignore[arg-type]
        stream=True,
    ) as chunks:
        deltas = [c.choices[0] for c in chunks if c.choices]
    first = deltas[1].delta.tool_calls
    assert first is not None and first[0].id and first[0].function is not None
    assert first[0].function.name == "get_weather"
    assert deltas[-1].finish_reason == "tool_calls"


def test_an_invalid_tool_schema_is_a_400_naming_tools(stub_url: str) -> None:
    client = openai.OpenAI(api_key="k", base_url=stub_url + "/v1", max_retries=0)
    bad = [{"type": "function", "function": {"name": "f", "parameters": {"type": "nonsense"}}}]
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(
            model="gpt-test",
            messages=[{"role": "user", "content": "hi"}],
            tools=bad,  # type: ignore[arg-type]
        )
    assert "tools[0]" in str(info.value)
