"""Every provider's stream shape, through the real ``openai`` SDK, against the stub on 127.0.0.1.

Each stub dialect (chosen by model name) sends one provider's documented shape; the
back end must yield exactly the events of the offline plan behind it: reasoning
apart, the answer's text, one Usage, and the provider's finish reason.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from chat_core import (
    Done,
    GenerationParams,
    OfflineBackend,
    ReasoningDelta,
    StreamError,
    StreamEvent,
    TextDelta,
    ToolCallDelta,
    Usage,
    build_conversation,
    model_options,
)
from chat_core.backends.openai import OpenAIBackend
from chat_core.backends.openai_params import ParamMemory
from chat_core.openai_stub import create_app
from chat_core.openai_stub.dialects import REFUSAL, TOOL_ARGUMENTS, TOOL_NAME
from tests.support.servers import serve_app

pytestmark = pytest.mark.integration

TPS = 400
PROMPT = "/think 0.02\n/echo Rivers flow north in places."  # 8 reasoning tokens, then the echo
Collect = Callable[..., list[StreamEvent]]


@pytest.fixture(scope="module")
def stub_url() -> Iterator[str]:
    with serve_app(create_app(tokens_per_second=TPS)) as url:
        yield url


@pytest.fixture(autouse=True)
def fresh_stats(stub_url: str) -> None:
    httpx.post(stub_url + "/_stub/reset").raise_for_status()


def requests_made(stub_url: str) -> int:
    count: int = httpx.get(stub_url + "/_stub/stats").json()["requests"]
    return count


def backend(stub_url: str, model: str, **options: Any) -> OpenAIBackend:
    options.setdefault("memory", ParamMemory())  # what one test learns, the next does not know
    return OpenAIBackend(api_key="k", base_url=stub_url + "/v1", model=model, **options)


def planned(prompt: str = PROMPT) -> tuple[list[str], list[str], Usage]:
    """The offline plan behind the stub: reasoning tokens, answer tokens, usage."""
    plan = OfflineBackend(tokens_per_second=TPS).plan(
        build_conversation(prompt), GenerationParams()
    )
    events = [e for _, e in plan]
    usage = next(e for e in events if isinstance(e, Usage))
    reasoning = [e.text for e in events if isinstance(e, ReasoningDelta)]
    return reasoning, [e.text for e in events if isinstance(e, TextDelta)], usage


REASONING, ANSWER, USAGE = planned()


def collect_sync(b: OpenAIBackend, prompt: str, params: GenerationParams) -> list[StreamEvent]:
    try:
        return list(b.stream(build_conversation(prompt), params))
    finally:
        b.client.close()


def collect_async(b: OpenAIBackend, prompt: str, params: GenerationParams) -> list[StreamEvent]:
    async def run() -> list[StreamEvent]:
        try:
            return [e async for e in b.astream(build_conversation(prompt), params)]
        finally:
            await b.aclient.close()

    return asyncio.run(run())


@pytest.fixture(params=["sync", "async"])
def collect(request: pytest.FixtureRequest) -> Collect:
    def run(b: OpenAIBackend, prompt: str = PROMPT, **params: Any) -> list[StreamEvent]:
        fn = collect_sync if request.param == "sync" else collect_async
        return fn(b, prompt, GenerationParams(**params))

    return run


def reasoning_then_answer() -> list[StreamEvent]:
    return [*map(ReasoningDelta, REASONING), *map(TextDelta, ANSWER)]


@pytest.mark.parametrize(
    "model",
    ["deepseek-reasoner", "qwen3-235b-a22b", "grok-3-mini", "groq/qwen3-32b", "openrouter/r1"],
)
def test_reasoning_fields(stub_url: str, collect: Collect, model: str) -> None:
    assert collect(backend(stub_url, model)) == [*reasoning_then_answer(), USAGE, Done("stop")]


def test_mistral_typed_parts(stub_url: str, collect: Collect) -> None:
    events = collect(backend(stub_url, "magistral-medium-2509"))
    assert events == [*reasoning_then_answer(), USAGE, Done("stop")]


def test_think_tags_in_content_split_across_chunks(stub_url: str, collect: Collect) -> None:
    # The stub cuts "<think>\n" and "\n</think>\n\n" across two chunks each.
    expected = [ReasoningDelta("\n"), *map(ReasoningDelta, REASONING), ReasoningDelta("\n")]
    events = collect(backend(stub_url, "qwq-32b-think"))
    assert events == [*expected, *map(TextDelta, ANSWER), USAGE, Done("stop")]


def test_openai_hides_reasoning_but_counts_it(stub_url: str, collect: Collect) -> None:
    events = collect(backend(stub_url, "gpt-4o-mini"))
    assert events == [*map(TextDelta, ANSWER), USAGE, Done("stop")]
    assert USAGE.reasoning_tokens == len(REASONING) == 8


def test_refusal_is_the_answer_marked_refused(stub_url: str, collect: Collect) -> None:
    events = collect(backend(stub_url, "refusal-demo"))
    text = [e for e in events if isinstance(e, TextDelta)]
    assert "".join(e.text for e in text) == REFUSAL
    assert events == [*text, USAGE, Done("stop", refused=True)]


def test_tool_call_only_answer_streams_the_call_and_names_the_tool(
    stub_url: str, collect: Collect
) -> None:
    events = collect(backend(stub_url, "tool-demo"))
    pieces = [e for e in events if isinstance(e, ToolCallDelta)]
    assert pieces[0].name == TOOL_NAME and pieces[0].id
    assert "".join(p.arguments for p in pieces) == TOOL_ARGUMENTS
    assert events[len(pieces) :] == [USAGE, Done("tool_calls", tool_names=(TOOL_NAME,))]


def test_azure_content_filter_shape(stub_url: str, collect: Collect) -> None:
    # An empty-choices first chunk with prompt_filter_results, then a filtered finish.
    events = collect(backend(stub_url, "azure-filter-gpt-4o"), "/echo " + "word " * 20)
    text = [e for e in events if isinstance(e, TextDelta)]
    assert len(text) == 6
    assert events[6:] == [events[6], Done("content_filter")] and isinstance(events[6], Usage)


def test_usage_in_every_chunk_gives_one_usage(stub_url: str, collect: Collect) -> None:
    events = collect(backend(stub_url, "sonar-pro"))
    assert events == [*map(TextDelta, ANSWER), USAGE, Done("stop")]


def test_strict_model_answers_first_time_and_is_right_the_next(stub_url: str) -> None:
    memory = ParamMemory()
    first = collect_sync(backend(stub_url, "gpt-5-mini", memory=memory), PROMPT, GenerationParams())
    assert first == [*map(TextDelta, ANSWER), USAGE, Done("stop")]
    assert requests_made(stub_url) == 2  # max_tokens and temperature refused, fixed in one retry
    again = collect_async(
        backend(stub_url, "gpt-5-mini", memory=memory), PROMPT, GenerationParams()
    )
    assert again == first
    assert requests_made(stub_url) == 3  # right the first time


def test_strict_model_with_reasoning_effort(stub_url: str, collect: Collect) -> None:
    events = collect(backend(stub_url, "o4-mini"), reasoning_effort="high")
    assert events == [*map(TextDelta, ANSWER), USAGE, Done("stop")]


def test_a_refusal_not_about_a_parameter_is_not_retried(stub_url: str) -> None:
    b = backend(stub_url, "gpt-test")
    events = collect_sync(b, "/error bad_request", GenerationParams())
    assert [type(e) for e in events] == [StreamError, Done]
    assert events[0].code == "bad_request" and requests_made(stub_url) == 1  # type: ignore[union-attr]


# -- the Responses API ---------------------------------------------------------------------
def test_responses_reasoning_summaries_text_and_usage(stub_url: str) -> None:
    memory = ParamMemory()
    b = backend(stub_url, "gpt-5-mini", api="responses", memory=memory)
    events = collect_sync(b, PROMPT, GenerationParams())
    assert events == [*reasoning_then_answer(), USAGE, Done("stop")]
    assert requests_made(stub_url) == 2  # temperature refused, then summaries asked for
    b = backend(stub_url, "gpt-5-mini", api="responses", memory=memory)
    assert collect_async(b, PROMPT, GenerationParams()) == events
    assert requests_made(stub_url) == 3


def test_responses_without_summaries_hides_reasoning(stub_url: str, collect: Collect) -> None:
    events = collect(backend(stub_url, "gpt-4o-mini", api="responses"))
    assert events == [*map(TextDelta, ANSWER), USAGE, Done("stop")]


def test_responses_incomplete_is_length(stub_url: str, collect: Collect) -> None:
    events = collect(backend(stub_url, "gpt-4o-mini", api="responses"), "Say a lot", max_tokens=16)
    assert [e for e in events if isinstance(e, TextDelta)] != []
    assert isinstance(events[-2], Usage) and events[-1] == Done("length")


def test_responses_refusal_and_tool_call(stub_url: str, collect: Collect) -> None:
    refused = collect(backend(stub_url, "refusal-demo", api="responses"))
    assert "".join(e.text for e in refused if isinstance(e, TextDelta)) == REFUSAL
    assert refused[-1] == Done("stop", refused=True)
    tool = collect(backend(stub_url, "tool-demo", api="responses"))
    pieces = [e for e in tool if isinstance(e, ToolCallDelta)]
    assert pieces[0].name == TOOL_NAME
    assert "".join(p.arguments for p in pieces) == TOOL_ARGUMENTS
    assert tool[len(pieces) :] == [USAGE, Done("tool_calls", tool_names=(TOOL_NAME,))]


def test_responses_failures(stub_url: str, collect: Collect) -> None:
    failed = collect(backend(stub_url, "gpt-4o-mini", api="responses"), "/error server after 3")
    assert [type(e) for e in failed] == [TextDelta] * 3 + [StreamError, Done]
    assert failed[-2].code == "server" and failed[-1] == Done("error")  # type: ignore[union-attr]
    http = collect(backend(stub_url, "gpt-4o-mini", api="responses", max_retries=0), "/error auth")
    assert http[0].code == "auth" and http[-1] == Done("error")  # type: ignore[union-attr]
    cut = collect(backend(stub_url, "gpt-4o-mini", api="responses"), "/drop after 2\n/lorem 50")
    assert cut[-2].code == "connection" and cut[-1] == Done("error")  # type: ignore[union-attr]


def wait_for(stub_url: str, name: str, value: int) -> int:
    deadline = time.monotonic() + 5.0
    while (current := httpx.get(stub_url + "/_stub/stats").json()[name]) != value:
        if time.monotonic() > deadline:
            break
        time.sleep(0.02)
    return int(current)


def test_responses_stop_closes_the_upstream_at_once(stub_url: str) -> None:
    b = backend(stub_url, "gpt-4o-mini", api="responses")
    gen = b.stream(build_conversation("/lorem 3000"), GenerationParams())
    first = [next(gen) for _ in range(3)]
    gen.close()
    assert all(isinstance(e, TextDelta) for e in first)
    assert next(gen, None) is None
    assert wait_for(stub_url, "streams_disconnected", 1) == 1
    assert wait_for(stub_url, "active_streams", 0) == 0
    b.client.close()


def test_responses_async_stop_closes_the_upstream(stub_url: str) -> None:
    b = backend(stub_url, "gpt-4o-mini", api="responses")

    async def run() -> None:
        agen = b.astream(build_conversation("/lorem 3000"), GenerationParams())
        assert isinstance(await agen.__anext__(), TextDelta)
        await agen.aclose()
        await b.aclient.close()

    asyncio.run(run())
    assert wait_for(stub_url, "streams_disconnected", 1) == 1


def test_an_openai_style_model_list_gives_the_configured_model_first() -> None:
    listed = ["dall-e-3", "gpt-4o", "gpt-4o-mini", "text-embedding-3-small", "tts-1", "whisper-1"]
    with serve_app(create_app(tokens_per_second=TPS, models=listed)) as url:
        b = backend(url, "gpt-4o-mini")
        available = b.list_models()
        b.client.close()
    assert available == sorted(listed)
    assert model_options(available, "gpt-4o-mini", "gpt-4o-mini") == ["gpt-4o-mini", "gpt-4o"]


# -- the stub's wire shapes, as the providers' references show them -------------------------
def sse_payloads(response: httpx.Response) -> list[tuple[str | None, Any]]:
    out: list[tuple[str | None, Any]] = []
    for block in response.text.split("\n\n"):
        lines = block.splitlines()
        name = next((ln[7:] for ln in lines if ln.startswith("event: ")), None)
        data = next((ln[6:] for ln in lines if ln.startswith("data: ")), None)
        if data is not None:
            out.append((name, data if data == "[DONE]" else json.loads(data)))
    return out


def chat_body(model: str, **extra: Any) -> dict[str, Any]:
    messages = [{"role": "user", "content": "/echo Hi there"}]
    return {"model": model, "messages": messages, "stream": True, **extra}


def test_strict_dialect_refuses_with_openais_exact_bodies(stub_url: str) -> None:
    r = httpx.post(stub_url + "/v1/chat/completions", json=chat_body("gpt-5", max_tokens=5))
    assert r.status_code == 400
    assert r.json() == {
        "error": {
            "message": "Unsupported parameter: 'max_tokens' is not supported with this model. "
            "Use 'max_completion_tokens' instead.",
            "type": "invalid_request_error",
            "param": "max_tokens",
            "code": "unsupported_parameter",
        }
    }
    r = httpx.post(stub_url + "/v1/chat/completions", json=chat_body("gpt-5", temperature=0.7))
    assert r.status_code == 400 and r.json()["error"]["code"] == "unsupported_value"
    assert r.json()["error"]["message"] == (
        "Unsupported value: 'temperature' does not support 0.7 with this model. "
        "Only the default (1) value is supported."
    )
    ok = chat_body("gpt-5", max_completion_tokens=50, temperature=1)
    assert httpx.post(stub_url + "/v1/chat/completions", json=ok).status_code == 200


def deltas(stub_url: str, model: str) -> list[Any]:
    """The deltas of a streamed answer, without the finish chunk and ``[DONE]``."""
    response = httpx.post(stub_url + "/v1/chat/completions", json=chat_body(model))
    return [p["choices"][0]["delta"] for _, p in sse_payloads(response)[:-2]]


def test_azure_dialect_wire_shape(stub_url: str) -> None:
    response = httpx.post(stub_url + "/v1/chat/completions", json=chat_body("azure-gpt-4o"))
    payloads = [p for _, p in sse_payloads(response)]
    first = payloads[0]
    assert first["choices"] == [] and first["prompt_filter_results"][0]["prompt_index"] == 0
    annotation = payloads[-3]["choices"][0]
    assert "delta" not in annotation and "content_filter_offsets" in annotation
    final = payloads[-2]["choices"][0]
    assert final["finish_reason"] == "content_filter"
    assert final["content_filter_results"]["violence"]["filtered"] is True
    assert payloads[-1] == "[DONE]"


def test_magistral_and_reasoning_content_wire_shapes(stub_url: str) -> None:
    parts = deltas(stub_url, "magistral-small")
    assert parts[1]["content"][0]["type"] == "thinking"
    assert parts[1]["content"][0]["thinking"][0]["type"] == "text"
    assert parts[-1]["content"] == [{"type": "text", "text": " there"}]
    fields = deltas(stub_url, "deepseek-r1")
    assert fields[1] == {"content": None, "reasoning_content": "The"}
    assert fields[-1] == {"content": " there"}


def test_responses_event_sequence(stub_url: str) -> None:
    body = {
        "model": "o3",
        "input": "/echo Hi there",
        "stream": True,
        "reasoning": {"summary": "auto"},
    }
    events = sse_payloads(httpx.post(stub_url + "/v1/responses", json=body))
    names = [name for name, _ in events]
    assert all(name == payload["type"] for name, payload in events)
    assert [p["sequence_number"] for _, p in events] == list(range(len(events)))
    assert names[:4] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.reasoning_summary_part.added",
    ]
    first_text = names.index("response.output_text.delta")
    assert names[first_text - 3 : first_text] == [
        "response.output_item.done",
        "response.output_item.added",
        "response.content_part.added",
    ]
    assert names[-4:] == [
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    final = events[-1][1]["response"]
    assert [item["type"] for item in final["output"]] == ["reasoning", "message"]
    assert final["output"][1]["content"][0]["text"] == "Hi there"
    assert final["usage"]["output_tokens_details"]["reasoning_tokens"] > 0
