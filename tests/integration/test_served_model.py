"""The server's own model, its errors and its silence, through the real SDK against the stub.

The stub serves one model under a non-default name and refuses others with Ollama's
404 "model not found", or accepts requests and never answers.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from chat_core import (
    Done,
    GenerationParams,
    Settings,
    StreamError,
    StreamEvent,
    VisitorInput,
    answer_text,
    build_conversation,
    choose_model,
    make_backend,
)
from chat_core.backends import OWN_SERVER
from chat_core.backends.model_list import fetch_model_list
from chat_core.backends.models import MAX_LISTED_MODELS
from chat_core.backends.openai import OpenAIBackend
from chat_core.chat.backend_cache import BackendCache, ModelCatalog
from chat_core.openai_stub import create_app
from tests.support.servers import free_port, serve_app

pytestmark = pytest.mark.integration

SERVED = "llama3.2:1b"


@pytest.fixture(scope="module")
def strict_url() -> Iterator[str]:
    with serve_app(create_app(1000, models=[SERVED], strict_models=True)) as url:
        yield url


@pytest.fixture(scope="module")
def silent_url() -> Iterator[str]:
    with serve_app(create_app(1000, silent=True)) as url:
        yield url


def collect(backend: OpenAIBackend, model: str | None = None) -> list[StreamEvent]:
    conversation = build_conversation("Say hello", [])
    return list(backend.stream(conversation, GenerationParams(model=model)))


def backend_for(url: str, **settings: object) -> OpenAIBackend:
    typed = VisitorInput(openai_base_url=url)
    built = make_backend(Settings(visitor=typed, visitor_endpoints="any", **settings))  # type: ignore[arg-type]
    assert isinstance(built, OpenAIBackend)
    return built


def test_the_served_model_is_listed_picked_and_answers(strict_url: str) -> None:
    typed = VisitorInput(openai_base_url=strict_url + "/v1")
    settings = Settings(visitor=typed, visitor_endpoints="any")
    listing = BackendCache(catalog=ModelCatalog()).model_list(settings)
    assert listing.models == (SERVED,)
    choice = choose_model(settings, listing)
    assert choice.pick.name == SERVED and choice.pick.note and "127.0.0.1:" in choice.pick.note
    events = collect(backend_for(strict_url + "/v1"), choice.pick.name)
    assert events[-1] == Done("stop") and answer_text(events)


def test_an_unknown_model_is_refused_as_ollama_does_and_named(strict_url: str) -> None:
    events = collect(backend_for(strict_url + "/v1"), "gpt-4o-mini")
    error = next(e for e in events if isinstance(e, StreamError))
    assert error.code == "bad_request" and not error.retryable
    assert "does not serve that model" in error.message and "127.0.0.1:" in error.message


def test_a_base_url_without_v1_is_told_to_add_it(strict_url: str) -> None:
    events = collect(backend_for(strict_url), SERVED)
    error = next(e for e in events if isinstance(e, StreamError))
    assert "usually end in /v1" in error.message and f"{strict_url}/v1" in error.message


def test_a_silent_server_ends_after_the_first_byte_timeout_named_and_not_retried(
    silent_url: str,
) -> None:
    httpx.post(silent_url + "/_stub/reset").raise_for_status()
    backend = backend_for(silent_url + "/v1", first_byte_timeout_s=1.0)
    events = collect(backend, "gpt-4o-mini")
    error = next(e for e in events if isinstance(e, StreamError))
    port = silent_url.rsplit(":", 1)[1]
    assert error.code == "timeout" and f"No response from 127.0.0.1:{port} in 1 s" in error.message
    assert events[-1] == Done("error")
    assert httpx.get(silent_url + "/_stub/stats").json()["requests"] == 1  # silence: one try


def test_a_silent_server_s_model_list_gives_up_with_a_reason(silent_url: str) -> None:
    listing = fetch_model_list(backend_for(silent_url + "/v1"))
    assert listing.models is None and listing.problem and "127.0.0.1:" in listing.problem


def test_a_refused_port_asks_whether_the_server_runs_after_visible_retries(
    caplog: pytest.LogCaptureFixture,
) -> None:
    port = free_port()  # nothing listens there
    with caplog.at_level(logging.INFO, logger="chat_core.backends.openai"):
        events = collect(backend_for(f"http://127.0.0.1:{port}/v1"), "m")
    error = next(e for e in events if isinstance(e, StreamError))
    assert f"is the server running on 127.0.0.1:{port}?" in error.message and error.retryable
    retries = [r.getMessage() for r in caplog.records if "retrying" in r.getMessage()]
    assert len(retries) == 2 and "retrying, 3 of 3" in retries[-1]


def test_a_rate_limit_is_retried_and_then_answers(strict_url: str) -> None:
    conversation = build_conversation("/error rate_limit times 1\n/echo after a 429", [])
    backend = backend_for(strict_url + "/v1")
    events = list(backend.stream(conversation, GenerationParams(model=SERVED)))
    assert answer_text(events) == "after a 429" and events[-1] == Done("stop")


def _text_app(body: str) -> Starlette:
    async def models(request: object) -> PlainTextResponse:
        return PlainTextResponse(body)

    return Starlette(routes=[Route("/v1/models", models)])


def test_a_model_list_that_is_not_json_leaves_a_text_field() -> None:
    with serve_app(_text_app("<html>hello</html>")) as url:
        listing = fetch_model_list(backend_for(url + "/v1"))
    assert listing.models is None and listing.problem and "could not be read" in listing.problem


def test_a_list_of_10000_models_offers_the_first_200() -> None:
    many = [f"model-{i}" for i in range(10_000)]
    with serve_app(create_app(1000, models=many)) as url:
        listing = fetch_model_list(backend_for(url + "/v1"))
    assert listing.models is not None and len(listing.models) == MAX_LISTED_MODELS


def test_the_gateway_and_the_remote_back_end_end_a_silent_upstream_by_the_same_setting(
    silent_url: str,
) -> None:
    from chat_core.backends.remote import RemoteBackend
    from chat_core.gateway import GatewayConfig
    from chat_core.gateway import create_app as create_gateway

    settings = Settings(openai_base_url=silent_url + "/v1", first_byte_timeout_s=1.0)
    gateway = create_gateway(settings, config=GatewayConfig())
    with serve_app(gateway) as gateway_url:
        remote = make_backend(Settings(remote_url=gateway_url, first_byte_timeout_s=1.0))
        assert isinstance(remote, RemoteBackend)
        events = list(remote.stream(build_conversation("Anyone?", []), GenerationParams()))
    error = next(e for e in events if isinstance(e, StreamError))
    port = silent_url.rsplit(":", 1)[1]
    # the gateway's clients are not its owner: they read a label, not the upstream's address
    assert error.code == "timeout" and f"No response from {OWN_SERVER} in 1 s" in error.message
    assert port not in error.message


def test_the_try_under_way_is_visible_while_the_back_end_retries(strict_url: str) -> None:
    import threading

    backend = backend_for(strict_url + "/v1")
    conversation = build_conversation("/error server times 2\n/echo third time lucky", [])
    events: list[StreamEvent] = []
    worker = threading.Thread(
        target=lambda: events.extend(backend.stream(conversation, GenerationParams(model=SERVED)))
    )
    seen: list[tuple[int, int] | None] = []
    worker.start()
    while worker.is_alive():  # what the waiting line reads, as the page polls it
        if backend.retrying not in seen:
            seen.append(backend.retrying)
        worker.join(0.01)
    assert (2, 3) in seen and (3, 3) in seen  # the 500s were retried, twice, visibly
    assert backend.retrying is None and answer_text(events) == "third time lucky"


def test_an_unknown_host_and_https_to_an_http_port_are_named_and_not_retried(
    strict_url: str,
) -> None:
    httpx.post(strict_url + "/_stub/reset").raise_for_status()
    unknown = collect(backend_for("http://no-such-host.invalid:8931/v1"), SERVED)
    assert "no-such-host.invalid was not found" in next(
        e.message for e in unknown if isinstance(e, StreamError)
    )
    tls = collect(backend_for(strict_url.replace("http://", "https://") + "/v1"), SERVED)
    message = next(e.message for e in tls if isinstance(e, StreamError))
    assert "TLS handshake with 127.0.0.1:" in message and "use http://" in message
    assert httpx.get(strict_url + "/_stub/stats").json()["requests"] == 0


def acollect(backend: OpenAIBackend, prompt: str) -> list[StreamEvent]:
    import asyncio

    async def run() -> list[StreamEvent]:
        try:
            conversation = build_conversation(prompt, [])
            params = GenerationParams(model=SERVED)
            return [e async for e in backend.astream(conversation, params)]
        finally:
            await backend.aclose()

    return asyncio.run(run())


def test_a_started_answer_may_be_quiet_longer_than_the_first_byte_timeout(
    strict_url: str,
) -> None:
    # As the app and the gateway stream (astream): the first-byte timeout is for the first
    # event; once the answer has begun, a model may think quietly for longer.
    pause = "/stall 2 after 3\n/echo one two three four five six"
    paused = acollect(backend_for(strict_url + "/v1", first_byte_timeout_s=1.0), pause)
    assert answer_text(paused) == "one two three four five six" and paused[-1] == Done("stop")


def test_a_silent_server_ends_by_the_first_byte_timeout_when_streamed_async(
    silent_url: str,
) -> None:
    events = acollect(backend_for(silent_url + "/v1", first_byte_timeout_s=1.0), "Hello?")
    error = next(e for e in events if isinstance(e, StreamError))
    assert error.code == "timeout" and "in 1 s" in error.message and events[-1] == Done("error")
