"""The OpenAI back end through the real ``openai`` SDK, against the stub on 127.0.0.1."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from chat_core import (
    Done,
    GenerationParams,
    OfflineBackend,
    StreamError,
    StreamEvent,
    TextDelta,
    Usage,
    answer_text,
    build_conversation,
)
from chat_core.backends.offline_models import OFFLINE_MODEL_NAMES
from chat_core.backends.openai import OpenAIBackend
from chat_core.openai_stub import create_app
from tests.support.servers import PYTHON, run_server, serve_app

pytestmark = pytest.mark.integration

Collect = Callable[..., list[StreamEvent]]


@pytest.fixture(scope="module")
def stub_url() -> Iterator[str]:
    with serve_app(create_app(tokens_per_second=400)) as url:
        yield url


@pytest.fixture(autouse=True)
def fresh_stats(stub_url: str) -> None:
    httpx.post(stub_url + "/_stub/reset").raise_for_status()


def stats(stub_url: str) -> dict[str, int]:
    result: dict[str, int] = httpx.get(stub_url + "/_stub/stats").json()
    return result


def wait_for(stub_url: str, name: str, value: int, timeout_s: float = 5.0) -> dict[str, int]:
    deadline = time.monotonic() + timeout_s
    while (current := stats(stub_url))[name] != value and time.monotonic() < deadline:
        time.sleep(0.02)
    return current


def make_backend(stub_url: str, **options: Any) -> OpenAIBackend:
    return OpenAIBackend(api_key="test-key", base_url=stub_url + "/v1", model="gpt-test", **options)


def offline_events(prompt: str, params: GenerationParams | None = None) -> list[StreamEvent]:
    plan = OfflineBackend().plan(build_conversation(prompt), params or GenerationParams())
    return [e for _, e in plan]


def check_shape(events: list[StreamEvent]) -> None:
    """Exactly one Done, last; a StreamError only right before a Done("error")."""
    assert [type(e) for e in events].count(Done) == 1
    assert isinstance(events[-1], Done)
    errors = [i for i, e in enumerate(events) if isinstance(e, StreamError)]
    assert errors in ([], [len(events) - 2])
    assert (events[-1].finish_reason == "error") == bool(errors)


def collect_sync(backend: OpenAIBackend, prompt: str, **params: Any) -> list[StreamEvent]:
    try:
        return list(backend.stream(build_conversation(prompt), GenerationParams(**params)))
    finally:
        backend.client.close()


def collect_async(backend: OpenAIBackend, prompt: str, **params: Any) -> list[StreamEvent]:
    async def run() -> list[StreamEvent]:
        try:
            conv = build_conversation(prompt)
            return [e async for e in backend.astream(conv, GenerationParams(**params))]
        finally:
            await backend.aclient.close()

    return asyncio.run(run())


@pytest.fixture(params=["sync", "async"])
def collect(request: pytest.FixtureRequest) -> Collect:
    def run(backend: OpenAIBackend, prompt: str, **params: Any) -> list[StreamEvent]:
        fn = collect_sync if request.param == "sync" else collect_async
        events = fn(backend, prompt, **params)
        check_shape(events)
        return events

    return run


def test_normal_stream_with_usage(stub_url: str, collect: Collect) -> None:
    prompt = "Which rivers flow north?"
    events = collect(make_backend(stub_url), prompt)
    expected = offline_events(prompt)
    assert answer_text(events) == answer_text(expected)
    assert [e for e in events if isinstance(e, Usage)] == [
        e for e in expected if isinstance(e, Usage)
    ]
    assert isinstance(events[-2], Usage)
    assert events[-1] == Done("stop")
    assert all(isinstance(e, TextDelta) for e in events[:-2])
    assert stats(stub_url)["streams_completed"] == 1


def test_max_tokens_gives_finish_length(stub_url: str, collect: Collect) -> None:
    events = collect(make_backend(stub_url), "Describe the sea", max_tokens=4)
    assert len([e for e in events if isinstance(e, TextDelta)]) == 4
    assert events[-1] == Done("length")


def test_401_is_auth_and_not_retried(stub_url: str, collect: Collect) -> None:
    events = collect(make_backend(stub_url), "/error auth\nhello")
    error, done = events
    assert isinstance(error, StreamError)
    assert (error.code, error.retryable) == ("auth", False)
    assert done == Done("error")
    assert stats(stub_url)["requests"] == 1


def test_429_once_then_success_within_the_sdk_retries(stub_url: str, collect: Collect) -> None:
    prompt = f"/error rate_limit times 1\nretry me ({collect.__name__} {time.monotonic_ns()})"
    events = collect(make_backend(stub_url), prompt)
    assert events[-1] == Done("stop")
    offline, conv = OfflineBackend(), build_conversation(prompt)
    offline.plan(conv, GenerationParams())  # the try that failed
    assert answer_text(events) == answer_text(
        [e for _, e in offline.plan(conv, GenerationParams())]
    )
    assert stats(stub_url)["requests"] == 2


@pytest.mark.parametrize(
    ("kind", "code", "retryable"),
    [
        ("server", "server", True),
        ("rate_limit", "rate_limit", True),
        ("timeout", "timeout", True),
        ("bad_request", "bad_request", False),
    ],
)
def test_http_errors_map_to_stable_codes(
    stub_url: str, collect: Collect, kind: str, code: str, retryable: bool
) -> None:
    events = collect(make_backend(stub_url, max_retries=0), f"/error {kind}\nhi")
    assert events[0] == StreamError(code, events[0].message, retryable)  # type: ignore[union-attr]
    assert "Error" not in answer_text(events)
    assert stats(stub_url)["requests"] == 1


def test_in_stream_error_keeps_the_text(stub_url: str, collect: Collect) -> None:
    prompt = "/error server after 5\nTell me about errors"
    events = collect(make_backend(stub_url, max_retries=0), prompt)
    assert all(isinstance(e, TextDelta) for e in events[:5])
    error = events[5]
    assert isinstance(error, StreamError)
    assert (error.code, error.retryable) == ("server", True)
    assert "simulated" in error.message
    assert events[-1] == Done("error")
    assert answer_text(events) == answer_text(offline_events(prompt)[:5])


def test_reset_mid_stream_is_a_connection_error(stub_url: str, collect: Collect) -> None:
    events = collect(make_backend(stub_url, max_retries=0), "/drop after 5\nhello there")
    assert [type(e) for e in events] == [TextDelta] * 5 + [StreamError, Done]
    assert (events[5].code, events[5].retryable) == ("connection", True)  # type: ignore[union-attr]
    assert stats(stub_url)["streams_dropped"] == 1


def test_stall_longer_than_the_read_timeout(stub_url: str, collect: Collect) -> None:
    backend = make_backend(
        stub_url, max_retries=0, timeout=httpx.Timeout(1.0, connect=5.0), quiet_s=1.0
    )
    events = collect(backend, "/stall 30 after 3\n/lorem 10")
    assert [type(e) for e in events] == [TextDelta] * 3 + [StreamError, Done]
    assert events[3].code == "timeout"  # type: ignore[union-attr]
    assert wait_for(stub_url, "streams_disconnected", 1)["streams_disconnected"] == 1


def test_early_close_sync_closes_the_upstream_connection(stub_url: str) -> None:
    backend = make_backend(stub_url)
    gen = backend.stream(build_conversation("/lorem 3000\nearly close"), GenerationParams())
    first = [next(gen) for _ in range(3)]
    gen.close()
    assert all(isinstance(e, TextDelta) for e in first)
    assert next(gen, None) is None  # nothing after close, not even a Done
    after = wait_for(stub_url, "streams_disconnected", 1)
    assert (after["streams_disconnected"], after["streams_completed"]) == (1, 0)
    assert wait_for(stub_url, "active_streams", 0)["active_streams"] == 0
    backend.client.close()


def test_early_close_async_closes_the_upstream_connection(stub_url: str) -> None:
    backend = make_backend(stub_url)

    async def run() -> list[StreamEvent]:
        agen = backend.astream(build_conversation("/lorem 3000\nearly"), GenerationParams())
        first = [await agen.__anext__() for _ in range(3)]
        await agen.aclose()
        with pytest.raises(StopAsyncIteration):
            await agen.__anext__()
        await backend.aclient.close()
        return first

    assert all(isinstance(e, TextDelta) for e in asyncio.run(run()))
    after = wait_for(stub_url, "streams_disconnected", 1)
    assert (after["streams_disconnected"], after["streams_completed"]) == (1, 0)


def test_list_models(stub_url: str) -> None:
    assert make_backend(stub_url).list_models() == list(OFFLINE_MODEL_NAMES)


def test_python_m_openai_stub_answers_a_real_sdk_request(tmp_path: Path) -> None:
    args = [
        PYTHON,
        "-m",
        "chat_core.openai_stub",
        "--host",
        "127.0.0.1",
        "--port",
        "{port}",
        "--tps",
        "2000",
    ]
    prompt = "Is the stub a real server?"
    with run_server(args, cwd=tmp_path, env=dict(os.environ), health_path="/healthz") as server:
        url = server.url
        with openai.OpenAI(base_url=url + "/v1", api_key="anything", max_retries=0) as client:
            reply = client.chat.completions.create(
                model="gpt-test", messages=[{"role": "user", "content": prompt}]
            )
        events = collect_sync(make_backend(url), prompt)
    expected = answer_text(offline_events(prompt, GenerationParams(max_tokens=32_768)))
    assert reply.choices[0].message.content == expected
    assert reply.choices[0].finish_reason == "stop"
    assert reply.usage is not None and reply.usage.completion_tokens > 0
    check_shape(events)
    assert answer_text(events) == answer_text(offline_events(prompt))
