"""Under ``CHAT_VISITOR_ENDPOINTS=public``, a visitor's endpoint on loopback or a private
network, in any spelling, through a name that resolves there (DNS rebinding), or behind a
redirect, reaches nothing: the listener on 127.0.0.1 counts zero requests. The check runs
at connect time, after DNS; the owner's configured endpoints stay trusted."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from chat_core import GenerationParams, build_conversation, make_backend
from chat_core.backends.openai import OpenAIBackend
from chat_core.backends.remote import RemoteBackend
from chat_core.backends.visitor_http import avisitor_transport, visitor_client, visitor_transport
from chat_core.diagnostics import LoadTarget, aload_test, run_load_target
from chat_core.errors import ConfigError, EndpointRefusedError
from chat_core.events import StreamError, StreamEvent
from chat_core.openai_stub import create_app as create_stub
from chat_core.settings import Settings, VisitorInput
from tests.support.recorder import Recorder, recording, redirecting_to
from tests.support.servers import serve_app

pytestmark = pytest.mark.integration
PARAMS = GenerationParams(model="offline-scripted", max_tokens=20)
SPELLINGS = ["127.0.0.1", "2130706433", "0x7f000001", "127.1", "0x7f.1", "[::ffff:127.0.0.1]",
             "localhost", "0.0.0.0", "[::1]"]  # fmt: skip


@pytest.fixture(scope="module")
def listener() -> Iterator[Recorder]:
    with recording(create_stub(tokens_per_second=2000)) as recorder:
        yield recorder


@pytest.fixture(autouse=True)
def no_requests_yet(listener: Recorder) -> Iterator[None]:
    listener.seen.clear()
    yield


def spelled(listener: Recorder, host: str) -> str:
    return f"http://{host}:{httpx.URL(listener.url).port}"


def first_error(events: list[StreamEvent]) -> StreamError:
    return next(e for e in events if isinstance(e, StreamError))


@pytest.mark.parametrize("host", SPELLINGS)
def test_a_visitor_client_connects_to_no_spelling_of_loopback(
    listener: Recorder, host: str
) -> None:
    with visitor_client("public") as client, pytest.raises(EndpointRefusedError) as refused:
        client.get(spelled(listener, host) + "/v1/models")
    assert "CHAT_VISITOR_ENDPOINTS=any" in str(refused.value)
    assert listener.seen == []


@pytest.mark.parametrize("host", SPELLINGS)
def test_the_factory_refuses_a_visitor_url_up_front_with_a_clear_message(
    listener: Recorder, host: str
) -> None:
    url = spelled(listener, host)
    for typed in (VisitorInput(openai_base_url=url + "/v1"), VisitorInput(remote_url=url)):
        with pytest.raises(ConfigError, match="does not connect visitor-entered endpoints"):
            make_backend(Settings(visitor_endpoints="public", visitor=typed))
    with pytest.raises(ConfigError, match=r"loopback|unspecified"):
        LoadTarget.choose(Settings(visitor_endpoints="public"), url=url)
    assert listener.seen == []


def test_the_back_ends_and_load_test_refuse_at_connect_time(listener: Recorder) -> None:
    """Past the factory's courtesy check: the connection itself is refused."""
    url = spelled(listener, "127.1")
    conversation = build_conversation("hi")
    openai_backend = OpenAIBackend(base_url=url + "/v1", visitor="public", max_retries=0)
    error = first_error(list(openai_backend.stream(conversation, PARAMS)))
    assert error.code == "connection" and "loopback" in error.message
    assert openai_backend.list_models() == []
    remote = RemoteBackend(url, visitor="public")
    error = first_error(list(remote.stream(conversation, PARAMS)))
    assert "loopback" in error.message and not error.retryable

    async def collect() -> list[StreamEvent]:
        remote = RemoteBackend(url, visitor="public")
        return [e async for e in remote.astream(conversation, PARAMS)]

    assert "loopback" in first_error(asyncio.run(collect())).message
    report = asyncio.run(aload_test(url, 2, "hi", visitor="public"))
    assert report.failures == 2
    assert {r.metrics.error_code for r in report.results} == {"connection"}
    assert listener.seen == []


@pytest.mark.parametrize(
    "addresses", [["10.0.0.7"], ["93.184.216.34", "127.0.0.1"], ["169.254.169.254"], ["::1"]]
)
def test_a_name_resolving_to_a_non_public_address_reaches_nothing(
    listener: Recorder, addresses: list[str]
) -> None:
    """DNS rebinding: whatever the name said before, the address connected to is checked."""
    port = httpx.URL(listener.url).port
    lookups: list[str] = []

    def resolve(host: str, _port: int) -> list[str]:
        lookups.append(host)
        return [*addresses, "127.0.0.1"]

    transport = visitor_transport("public", resolve=resolve)
    with httpx.Client(transport=transport) as client, pytest.raises(EndpointRefusedError):
        client.get(f"http://rebind.test:{port}/v1/models")

    async def aget() -> None:
        async with httpx.AsyncClient(transport=avisitor_transport("public", resolve=resolve)) as c:
            await c.get(f"http://rebind.test:{port}/v1/models")

    with pytest.raises(EndpointRefusedError):
        asyncio.run(aget())
    assert lookups == ["rebind.test", "rebind.test"]
    assert listener.seen == []


def test_a_redirect_is_never_followed(listener: Recorder) -> None:
    """Even under ``any``: a visitor's endpoint cannot bounce the request elsewhere."""
    with serve_app(redirecting_to(listener.url)) as bouncer:
        with visitor_client("any") as client:
            assert client.get(bouncer + "/v1/models").status_code == 307
        conversation = build_conversation("hi")
        settings = Settings(visitor_endpoints="any", visitor=VisitorInput(openai_base_url=bouncer))
        error = first_error(list(make_backend(settings).stream(conversation, PARAMS)))
        assert "307" in error.message
        remote = make_backend(
            Settings(visitor_endpoints="any", visitor=VisitorInput(remote_url=bouncer))
        )
        assert "307" in first_error(list(remote.stream(conversation, PARAMS))).message
        report = run_load_target(
            LoadTarget.choose(Settings(visitor_endpoints="any"), url=bouncer), 1, "hi"
        )
        assert report.results[0].http_status == 307
    assert listener.seen == []


def test_visitor_error_bodies_are_not_shown(listener: Recorder) -> None:
    """The stub's 400 explains itself; to a visitor only the status is shown."""
    url = listener.url + "/v1"
    failing = build_conversation("/error bad_request")
    visitor = Settings(visitor_endpoints="any", visitor=VisitorInput(openai_base_url=url))
    shown = first_error(list(make_backend(visitor).stream(failing, PARAMS))).message
    owner = first_error(list(make_backend(Settings(openai_base_url=url)).stream(failing, PARAMS)))
    assert shown == "The request was refused (400)."
    assert owner.message.startswith("The request was refused (400): ") and len(owner.message) > 40


def test_the_owner_endpoint_is_trusted_under_public(listener: Recorder) -> None:
    settings = Settings(openai_base_url=listener.url + "/v1", visitor_endpoints="public")
    events = list(make_backend(settings).stream(build_conversation("/echo trusted"), PARAMS))
    assert "trusted" in "".join(getattr(e, "text", "") for e in events)
    assert listener.seen
