"""Per-client limits and tickets as pure bookkeeping, on a fake clock."""

from __future__ import annotations

import pytest

from chat_core.errors import ConfigError, ValidationError
from chat_core.gateway import GatewayConfig
from chat_core.gateway.limits import ClientLimits, client_key
from chat_core.gateway.requests import enforce_policy, parse_body
from chat_core.gateway.tickets import TicketBook
from chat_core.settings import Settings


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_client_keys_use_a_digest_of_the_token_never_the_token() -> None:
    key = client_key("s3cret-token", "10.0.0.1")
    assert key.startswith("token:") and "s3cret" not in key
    assert key == client_key("s3cret-token", "10.9.9.9")  # the token names the client
    assert client_key(None, "10.0.0.1") == "address:10.0.0.1"


def test_concurrent_streams_free_up_as_streams_finish() -> None:
    limits = ClientLimits(streams=2, starts_per_minute=0, clock=Clock())
    assert limits.admit("a") is None and limits.admit("a") is None
    refusal = limits.admit("a")
    assert refusal is not None and refusal.limit == "CHAT_GATEWAY_CLIENT_STREAMS"
    assert limits.admit("b") is None  # another client is not affected
    limits.finished("a")
    assert limits.admit("a") is None


def test_starts_per_minute_slide_and_say_when_to_retry() -> None:
    clock = Clock()
    limits = ClientLimits(streams=0, starts_per_minute=2, clock=clock)
    assert limits.admit("a") is None
    clock.now += 20
    assert limits.admit("a") is None
    limits.finished("a")
    limits.finished("a")
    refusal = limits.admit("a")
    assert refusal is not None and refusal.limit == "CHAT_GATEWAY_CLIENT_STARTS"
    assert refusal.retry_after_s == 40  # when the first start leaves the minute
    clock.now += 40
    assert limits.admit("a") is None


def test_zero_turns_the_limits_off() -> None:
    limits = ClientLimits(streams=0, starts_per_minute=0, clock=Clock())
    assert all(limits.admit("a") is None for _ in range(500))


def test_idle_clients_are_forgotten() -> None:
    clock = Clock()
    limits = ClientLimits(streams=5, starts_per_minute=5, clock=clock)
    limits.admit("a")
    clock.now += 61
    limits.finished("a")
    assert limits.active("a") == 0 and "a" not in limits._starts


def test_a_ticket_is_used_once_bound_to_its_stream_and_expires() -> None:
    clock = Clock()
    book = TicketBook(ttl_s=60, resume_ttl_s=600, clock=clock)
    ticket = book.issue("client-1")
    assert ticket is not None and len(ticket) >= 40
    assert book.resumes(ticket, "s1") is None  # not used yet: resumes nothing
    assert book.redeem(ticket) == "client-1"
    assert book.redeem(ticket) is None
    book.bind(ticket, "s1")
    clock.now += 300  # past the ticket's 60 s, within the stream's resume time
    assert book.resumes(ticket, "s1") == "client-1"
    assert book.resumes(ticket, "s2") is None
    clock.now += 301
    assert book.resumes(ticket, "s1") is None and len(book) == 0
    late = book.issue("client-1")
    assert late is not None
    clock.now += 60
    assert book.redeem(late) is None  # expired unused


def test_the_model_allow_list_names_the_field_and_max_tokens_is_capped() -> None:
    chat = parse_body(b'{"message": "hi", "model": "big", "max_tokens": 9000}')
    with pytest.raises(ValidationError) as refused:
        enforce_policy(chat, ("small",), None)
    assert refused.value.field == "model"
    assert enforce_policy(chat, ("big",), 100).params.max_tokens == 100
    assert enforce_policy(chat, (), None) == chat
    unnamed = parse_body(b'{"message": "hi"}')
    assert enforce_policy(unnamed, ("small",), None).params.model is None  # the server's default


def test_gateway_settings_are_read_and_checked() -> None:
    env = {
        "CHAT_GATEWAY_CLIENT_STREAMS": "3",
        "CHAT_GATEWAY_CLIENT_STARTS": "0",
        "CHAT_GATEWAY_REQUEST_TIMEOUT_S": "2.5",
        "CHAT_GATEWAY_MODELS": "gpt-4o-mini, gpt-4o",
        "CHAT_GATEWAY_MAX_TOKENS": "512",
    }
    config = GatewayConfig.from_settings(Settings(), env=env, dotenv_path=None, secrets={})
    assert (config.client_streams, config.client_starts) == (3, 0)
    assert config.request_timeout_s == 2.5 and config.max_tokens == 512
    assert config.models == ("gpt-4o-mini", "gpt-4o")
    defaults = GatewayConfig.from_settings(Settings(), env={}, dotenv_path=None, secrets={})
    assert (defaults.client_streams, defaults.client_starts, defaults.max_tokens) == (20, 60, None)
    with pytest.raises(ConfigError, match="CHAT_GATEWAY_CLIENT_STREAMS"):
        GatewayConfig.from_settings(
            Settings(), env={"CHAT_GATEWAY_CLIENT_STREAMS": "many"}, dotenv_path=None, secrets={}
        )
