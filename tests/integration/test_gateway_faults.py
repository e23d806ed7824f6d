"""The gateway when clients misbehave or its own code fails, over real sockets on 127.0.0.1:
JSON nested past the limit is a 422 naming the body (never a RecursionError's plain 500),
an unexpected error is a JSON 500 with nothing of its internals, and a run left with no
client is cancelled after the orphan window, closing its upstream (the OpenAI stub sees it),
while a client that resumes within the window gets the whole answer."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

import httpx
import pytest

from chat_core.backends.offline import OfflineBackend
from chat_core.backends.openai import OpenAIBackend
from chat_core.gateway import GatewayConfig, create_app
from chat_core.messages import GenerationParams, build_conversation
from chat_core.openai_stub import create_app as create_stub
from chat_core.runs import make_run_store
from tests.integration.test_resume import read_events, text_of
from tests.support.polling import wait_for
from tests.support.redis import Redis
from tests.support.servers import serve_app

pytestmark = pytest.mark.integration

PATH = "/api/chat/stream"
ORPHAN_S = 1.0


@pytest.fixture(scope="module")
def gateway_url() -> Iterator[str]:
    app = create_app(backend=OfflineBackend(tokens_per_second=2000), config=GatewayConfig())
    with serve_app(app) as url:
        yield url


# -- nesting -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "body",
    [
        b"[" * 10_000 + b"]" * 10_000,
        b'{"message": "hi", "history": ' + b"[" * 10_000 + b"]" * 10_000 + b"}",
        b"[" * 1_000_000,
    ],
    ids=["10000-deep", "10000-deep-history", "1MB-of-brackets"],
)
def test_deep_nesting_is_a_422_naming_the_body(gateway_url: str, body: bytes) -> None:
    response = httpx.post(gateway_url + PATH, content=body, timeout=30)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["field"] == "body" and "nested" in error["message"]


def test_deep_history_in_a_query_is_a_422_naming_history(gateway_url: str) -> None:
    params = {"message": "hi", "history": "[" * 5_000}
    response = httpx.get(gateway_url + PATH, params=params, timeout=30)
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "history"


def test_brackets_inside_strings_do_not_count(gateway_url: str) -> None:
    history = [{"role": "user", "content": "[" * 5_000}, {"role": "assistant", "content": "ok"}]
    body = {"message": "/echo fine", "history": history}
    with httpx.stream("POST", gateway_url + PATH, json=body, timeout=30) as response:
        assert response.status_code == 200
        assert text_of(read_events(response)) == "fine"


# -- an unexpected error -----------------------------------------------------------------------
class BrokenBackend(OfflineBackend):
    """A back end with a bug where a route reads it (its name, on /healthz)."""

    @property  # type: ignore[override]
    def name(self) -> str:
        raise RuntimeError("internal detail /srv/secret-path line 42")


def test_an_unexpected_error_is_a_json_500_without_internals() -> None:
    app = create_app(backend=BrokenBackend(), config=GatewayConfig())
    with serve_app(app) as url:
        response = httpx.get(url + "/healthz", timeout=10)
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal"
    assert "secret" not in response.text and "RuntimeError" not in response.text


# -- orphaned runs -----------------------------------------------------------------------------
@contextlib.contextmanager
def gateway_over_stub(
    orphan_s: float, client_streams: int = 20
) -> Iterator[tuple[httpx.Client, httpx.Client]]:
    with serve_app(create_stub(tokens_per_second=40)) as stub_url:
        backend = OpenAIBackend(
            api_key="test-key", base_url=stub_url + "/v1", model="gpt-test", max_retries=0
        )
        config = GatewayConfig(orphan_s=orphan_s, client_streams=client_streams)
        with (
            serve_app(create_app(backend=backend, config=config)) as url,
            httpx.Client(base_url=url, timeout=10) as gateway,
            httpx.Client(base_url=stub_url, timeout=10) as stub,
        ):
            yield gateway, stub


def stats(stub: httpx.Client) -> dict[str, int]:
    result: dict[str, int] = stub.get("/_stub/stats").json()
    return result


def test_a_dropped_client_stops_the_upstream_after_the_orphan_window() -> None:
    with gateway_over_stub(ORPHAN_S, client_streams=1) as (gateway, stub):
        with gateway.stream("POST", PATH, json={"message": "/lorem 2000"}) as response:
            stream_id = response.headers["x-stream-id"]
            read_events(response, 2)
        dropped_at = time.monotonic()
        # the dropped stream still holds the client's one slot...
        assert gateway.post(PATH, json={"message": "/echo again"}).status_code == 429
        # the stub's stream (50 s at 40 tokens/s) is closed by the gateway, not finished
        assert wait_for(lambda: stats(stub)["streams_disconnected"] == 1, timeout_s=30)
        assert time.monotonic() - dropped_at >= ORPHAN_S
        assert stats(stub)["streams_completed"] == 0 and stats(stub)["active_streams"] == 0
        # ...until the window is over: then the slot is free again
        with gateway.stream("POST", PATH, json={"message": "/echo again"}) as again:
            assert again.status_code == 200 and text_of(read_events(again)) == "again"
        headers = {"Last-Event-ID": f"{stream_id}:0"}
        with gateway.stream("GET", f"{PATH}/{stream_id}", headers=headers) as again:
            kept = read_events(again)
        assert kept[-1][1] == {"done": True, "finish_reason": "cancelled"}  # partial kept


def test_a_resume_within_the_window_gets_the_whole_answer() -> None:
    prompt = "/lorem 120"  # 3 s at 40 tokens/s: longer than the window
    with gateway_over_stub(ORPHAN_S) as (gateway, stub):
        with gateway.stream("POST", PATH, json={"message": prompt}) as response:
            stream_id = response.headers["x-stream-id"]
            first = read_events(response, 2)
        time.sleep(ORPHAN_S / 4)
        headers = {"Last-Event-ID": f"{stream_id}:2"}
        with gateway.stream("GET", f"{PATH}/{stream_id}", headers=headers) as again:
            rest = read_events(again)
        assert rest[-1][1] == {"done": True, "finish_reason": "stop"}
        assert stats(stub)["streams_completed"] == 1 and stats(stub)["streams_disconnected"] == 0
    plan = OfflineBackend().plan(build_conversation(prompt), GenerationParams())
    assert text_of(first + rest) == "".join(getattr(e, "text", "") for _, e in plan)


def test_orphan_zero_keeps_a_dropped_run_going_to_its_end() -> None:
    with gateway_over_stub(0) as (gateway, stub):
        with gateway.stream("POST", PATH, json={"message": "/lorem 80"}) as response:
            read_events(response, 2)
        assert wait_for(lambda: stats(stub)["streams_completed"] == 1, timeout_s=30)
        assert stats(stub)["streams_disconnected"] == 0


@contextlib.contextmanager
def two_gateways_over_redis(
    redis_url: str, stub_url: str, orphan_s: float
) -> Iterator[tuple[httpx.Client, httpx.Client]]:
    """Instances A and B sharing runs through one Redis, both pulling from the stub."""

    def app() -> object:
        backend = OpenAIBackend(
            api_key="test-key", base_url=stub_url + "/v1", model="gpt-test", max_retries=0
        )
        config = GatewayConfig(orphan_s=orphan_s, client_streams=0, client_starts=0)
        return create_app(backend=backend, config=config, store=make_run_store(redis_url))

    with (
        serve_app(app()) as a_url,
        serve_app(app()) as b_url,
        httpx.Client(base_url=a_url, timeout=10) as a,
        httpx.Client(base_url=b_url, timeout=10) as b,
    ):
        yield a, b


@pytest.mark.slow
def test_a_resume_on_another_instance_outlives_the_window(redis_server: Redis) -> None:
    prompt = "/lorem 200"  # 5 s at 40 tokens/s: several windows long
    with (
        serve_app(create_stub(tokens_per_second=40)) as stub_url,
        two_gateways_over_redis(redis_server.url, stub_url, ORPHAN_S) as (a, b),
        httpx.Client(base_url=stub_url, timeout=10) as stub,
    ):
        with a.stream("POST", PATH, json={"message": prompt}) as response:
            stream_id = response.headers["x-stream-id"]
            first = read_events(response, 2)
        # A, which pulls the model, has no client now; B has one for several windows
        headers = {"Last-Event-ID": f"{stream_id}:2"}
        with b.stream("GET", f"{PATH}/{stream_id}", headers=headers) as again:
            rest = read_events(again)
        assert rest[-1][1] == {"done": True, "finish_reason": "stop"}
        assert stats(stub)["streams_disconnected"] == 0
        # and with no client anywhere, the owner still cancels it
        with b.stream("POST", PATH, json={"message": "/lorem 2000"}) as response:
            read_events(response, 2)
        assert wait_for(lambda: stats(stub)["streams_disconnected"] == 1, timeout_s=30)
    plan = OfflineBackend().plan(build_conversation(prompt), GenerationParams())
    assert text_of(first + rest) == "".join(getattr(e, "text", "") for _, e in plan)


def test_the_orphan_setting_is_read_and_checked() -> None:
    from chat_core.errors import ConfigError
    from chat_core.settings import Settings

    env = {"CHAT_GATEWAY_ORPHAN_S": "5"}
    config = GatewayConfig.from_settings(Settings(), env=env, dotenv_path=None, secrets={})
    assert config.orphan_s == 5.0
    assert GatewayConfig.from_settings(Settings(), env={}, dotenv_path=None, secrets={}).orphan_s
    with pytest.raises(ConfigError):
        GatewayConfig(orphan_s=-1)
