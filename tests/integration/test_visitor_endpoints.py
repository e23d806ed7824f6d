"""Canaries: the owner's key and token (in the environment and in secrets) and the
environment's org, project and custom headers never reach an endpoint a visitor typed,
from the chat back-end factory, the diagnostics probe or the load test; the owner's own
configured endpoints do receive them. Real listeners on 127.0.0.1 record every request.

These run with ``CHAT_VISITOR_ENDPOINTS=any`` (under ``public`` a loopback listener is
refused outright; test_address_guard.py checks that)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from chat_core import GenerationParams, build_conversation, make_backend
from chat_core.backends.offline import OfflineBackend
from chat_core.diagnostics import LoadTarget, Probe, ProbeTarget, run_load_target
from chat_core.events import Done, StreamEvent, answer_text
from chat_core.gateway import GatewayConfig
from chat_core.gateway import create_app as create_gateway
from chat_core.openai_stub import create_app as create_stub
from chat_core.settings import Settings, VisitorInput, load_settings
from tests.support.polling import wait_for
from tests.support.recorder import Recorder, recording

pytestmark = pytest.mark.integration

CANARY = "c4n4ry"
SECRET_KEY, SECRET_TOKEN = f"SECRET-OWNER-KEY-{CANARY}", f"SECRET-OWNER-TOKEN-{CANARY}"
OWNER_ENV = {
    "OPENAI_API_KEY": f"ENV-OWNER-KEY-{CANARY}",
    "CHAT_GATEWAY_TOKEN": f"ENV-OWNER-TOKEN-{CANARY}",
    "OPENAI_ADMIN_KEY": f"ADMIN-KEY-{CANARY}",
    "OPENAI_ORG_ID": f"org-{CANARY}",
    "OPENAI_PROJECT_ID": f"proj-{CANARY}",
    "OPENAI_CUSTOM_HEADERS": f"X-Custom-Canary: custom-{CANARY}\nX-Second: two-{CANARY}",
}
PARAMS = GenerationParams(model="offline-scripted", max_tokens=50)


@pytest.fixture(autouse=True)
def owner_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in OWNER_ENV.items():
        monkeypatch.setenv(name, value)
    for name in ("OPENAI_BASE_URL", "CHAT_REMOTE_URL", "CHAT_BACKEND", "CHAT_VISITOR_ENDPOINTS"):
        monkeypatch.delenv(name, raising=False)


def owner(**secrets: str) -> Settings:
    """The owner's settings: the environment above plus these secrets."""
    layer = {"OPENAI_API_KEY": SECRET_KEY, "CHAT_GATEWAY_TOKEN": SECRET_TOKEN, **secrets}
    return load_settings(secrets=layer, dotenv_path=None, visitor_endpoints="any")


@pytest.fixture
def stub() -> Iterator[Recorder]:
    with recording(create_stub(tokens_per_second=2000)) as recorder:
        yield recorder


@pytest.fixture
def owner_stub() -> Iterator[Recorder]:
    with recording(create_stub(tokens_per_second=2000)) as recorder:
        yield recorder


def gateway(token: str | None = None) -> Recorder:
    app = create_gateway(
        backend=OfflineBackend(tokens_per_second=2000), config=GatewayConfig(token=token)
    )
    return Recorder(app)


@pytest.fixture
def visitor_gateway() -> Iterator[Recorder]:
    with recording(gateway()) as recorder:
        yield recorder


@pytest.fixture
def owner_gateway() -> Iterator[Recorder]:
    with recording(gateway(SECRET_TOKEN)) as recorder:
        yield recorder


def assert_no_canary(recorder: Recorder) -> None:
    assert recorder.seen, "the listener got no request at all"
    assert CANARY not in recorder.header_values()


def both_ways(settings: Settings) -> list[StreamEvent]:
    """One answer through ``stream`` and one through ``astream``, from a fresh back end."""
    backend = make_backend(settings)
    conversation = build_conversation("/echo canary check")
    events = list(backend.stream(conversation, PARAMS))

    async def collect() -> list[StreamEvent]:
        return [e async for e in make_backend(settings).astream(conversation, PARAMS)]

    return events + asyncio.run(collect())


# -- the chat back-end factory ---------------------------------------------------------
def test_a_visitor_base_url_gets_a_placeholder_key_and_no_owner_headers(stub: Recorder) -> None:
    settings = owner().with_overrides(visitor=VisitorInput(openai_base_url=stub.url + "/v1"))
    backend = make_backend(settings)
    assert backend.list_models()  # the model list is asked for at once: it too is checked
    events = both_ways(settings)
    assert answer_text(events).count("canary check") == 2
    assert_no_canary(stub)
    assert {s.headers.get("authorization") for s in stub.seen} == {"Bearer not-needed"}
    assert not any("openai-organization" in s.headers for s in stub.seen)


def test_a_visitor_base_url_gets_the_key_the_visitor_typed(stub: Recorder) -> None:
    typed = VisitorInput(openai_api_key="sk-visitor-own", openai_base_url=stub.url + "/v1")
    both_ways(owner().with_overrides(visitor=typed))
    assert_no_canary(stub)
    assert {s.headers.get("authorization") for s in stub.seen} == {"Bearer sk-visitor-own"}


def test_the_owner_base_url_gets_the_owner_key_and_headers(owner_stub: Recorder) -> None:
    events = both_ways(owner(OPENAI_BASE_URL=owner_stub.url + "/v1"))
    assert isinstance(events[-1], Done) and events[-1].finish_reason == "stop"
    headers = owner_stub.seen[-1].headers
    assert headers["authorization"] == f"Bearer {SECRET_KEY}"
    assert headers["openai-organization"] == f"org-{CANARY}"
    assert headers["x-custom-canary"] == f"custom-{CANARY}"


def test_a_visitor_remote_url_gets_no_owner_token(visitor_gateway: Recorder) -> None:
    settings = owner().with_overrides(visitor=VisitorInput(remote_url=visitor_gateway.url))
    events = both_ways(settings)
    assert answer_text(events).count("canary check") == 2
    assert_no_canary(visitor_gateway)
    assert not any("authorization" in s.headers for s in visitor_gateway.seen)


def test_the_owner_remote_url_gets_the_owner_token(owner_gateway: Recorder) -> None:
    events = both_ways(owner(CHAT_REMOTE_URL=owner_gateway.url))
    assert answer_text(events).count("canary check") == 2  # the token was accepted
    assert owner_gateway.seen[-1].headers["authorization"] == f"Bearer {SECRET_TOKEN}"


def test_a_visitor_with_an_owner_remote_url_still_reaches_only_its_own(
    owner_gateway: Recorder, visitor_gateway: Recorder
) -> None:
    settings = owner(CHAT_REMOTE_URL=owner_gateway.url).with_overrides(
        visitor=VisitorInput(remote_url=visitor_gateway.url, gateway_token="visitor-token")
    )
    both_ways(settings)
    assert not owner_gateway.seen
    assert_no_canary(visitor_gateway)
    assert visitor_gateway.seen[0].headers["authorization"] == "Bearer visitor-token"


# -- the diagnostics probe -------------------------------------------------------------
def probe_once(target: ProbeTarget) -> Probe:
    probe = Probe.start(target, "/echo probe canary", PARAMS)
    assert wait_for(lambda: probe.finished, 30), "the probe did not finish"
    return probe


def test_the_probe_sends_a_visitor_base_url_no_owner_secret(stub: Recorder) -> None:
    typed = VisitorInput(openai_base_url=stub.url + "/v1")
    probe = probe_once(ProbeTarget.from_settings(owner(), "openai", visitor=typed))
    assert "probe canary" in probe.run.text
    assert_no_canary(stub)


def test_the_probe_sends_a_visitor_remote_url_no_owner_token(visitor_gateway: Recorder) -> None:
    typed = VisitorInput(remote_url=visitor_gateway.url)
    probe = probe_once(ProbeTarget.from_settings(owner(), "remote", visitor=typed))
    assert "probe canary" in probe.run.text
    assert_no_canary(visitor_gateway)


def test_the_probe_sends_the_owner_endpoints_their_credentials(
    owner_stub: Recorder, owner_gateway: Recorder
) -> None:
    settings = owner(OPENAI_BASE_URL=owner_stub.url + "/v1", CHAT_REMOTE_URL=owner_gateway.url)
    assert "probe canary" in probe_once(ProbeTarget.from_settings(settings, "openai")).run.text
    assert "probe canary" in probe_once(ProbeTarget.from_settings(settings, "remote")).run.text
    assert owner_stub.seen[-1].headers["authorization"] == f"Bearer {SECRET_KEY}"
    assert owner_gateway.seen[-1].headers["authorization"] == f"Bearer {SECRET_TOKEN}"


# -- the load test ---------------------------------------------------------------------
def test_the_load_test_sends_a_visitor_url_no_owner_token(visitor_gateway: Recorder) -> None:
    target = LoadTarget.choose(owner(), url=visitor_gateway.url)
    report = run_load_target(target, 3, "/lorem 5")
    assert report.failures == 0
    assert len(visitor_gateway.seen) == 3
    assert_no_canary(visitor_gateway)


def test_the_load_test_sends_the_owner_gateway_its_token(owner_gateway: Recorder) -> None:
    target = LoadTarget.choose(owner(CHAT_REMOTE_URL=owner_gateway.url))
    report = run_load_target(target, 3, "/lorem 5")
    assert report.failures == 0  # the token was accepted
    assert {s.headers["authorization"] for s in owner_gateway.seen} == {f"Bearer {SECRET_TOKEN}"}


def test_a_visitor_client_ignores_proxy_variables(
    stub: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    with recording(create_stub()) as proxy:
        for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
            monkeypatch.setenv(name, proxy.url)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        settings = owner().with_overrides(visitor=VisitorInput(remote_url=stub.url))
        list(make_backend(settings).stream(build_conversation("hi"), PARAMS))
        target = LoadTarget.choose(owner(), url=stub.url)
        run_load_target(target, 1, "hi")
        assert not proxy.seen
    assert stub.seen  # the requests went straight to the typed URL
