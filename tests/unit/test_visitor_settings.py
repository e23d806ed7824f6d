"""Owner and visitor in the settings: typed values stay apart from the owner's, the
sidebar's endpoint fields never show the owner's URLs, and who pays is known."""

from __future__ import annotations

import pytest

from chat_core import VisitorInput, endpoint_fields, with_listening_address
from chat_core.backends import make_backend, spends_owner_credentials
from chat_core.backends.openai import OpenAIBackend
from chat_core.backends.remote import RemoteBackend
from chat_core.backends.visitor_http import env_free_headers
from chat_core.errors import EndpointRefusedError
from chat_core.settings import Settings


def test_visitor_input_is_trimmed_and_hides_secrets() -> None:
    typed = VisitorInput(openai_api_key=" sk-v ", openai_base_url="  ", gateway_token="t0k")
    assert typed.openai_api_key == "sk-v" and typed.openai_base_url is None
    assert "sk-v" not in repr(typed) and "t0k" not in repr(typed)
    settings = Settings(openai_api_key="sk-owner", visitor=typed)
    assert "sk-owner" not in repr(settings) and "sk-v" not in repr(settings)


def test_a_typed_endpoint_picks_the_back_end_but_not_the_owner_key() -> None:
    owner = Settings(
        openai_api_key="sk-owner", gateway_token="owner-token", visitor_endpoints="any"
    )
    typed = owner.with_overrides(visitor=VisitorInput(openai_base_url="http://10.0.0.5:11434/v1"))
    backend = make_backend(typed)
    assert isinstance(backend, OpenAIBackend) and backend.visitor == "any"
    assert backend.client.api_key == "not-needed"
    remote = make_backend(owner.with_overrides(visitor=VisitorInput(remote_url="http://10.0.0.5")))
    assert isinstance(remote, RemoteBackend) and remote.token is None and remote.visitor == "any"
    mine = make_backend(owner.with_overrides(backend="openai"))
    assert isinstance(mine, OpenAIBackend) and mine.visitor is None
    assert mine.client.api_key == "sk-owner"


def test_off_refuses_a_typed_endpoint_even_past_the_page() -> None:
    settings = Settings(visitor_endpoints="off", visitor=VisitorInput(remote_url="http://x.test"))
    with pytest.raises(EndpointRefusedError, match="CHAT_VISITOR_ENDPOINTS=off"):
        make_backend(settings)


def test_who_pays() -> None:
    owner = Settings(
        openai_api_key="sk-owner", remote_url="http://gw.test", visitor_endpoints="any"
    )
    assert spends_owner_credentials(owner.with_overrides(backend="openai"))
    assert spends_owner_credentials(owner)  # the owner's gateway and token
    own_key = VisitorInput(openai_api_key="sk-visitor")
    assert not spends_owner_credentials(owner.with_overrides(backend="openai", visitor=own_key))
    assert not spends_owner_credentials(Settings())  # offline


def test_the_endpoint_fields_never_show_the_owner_urls() -> None:
    owner = Settings(openai_base_url="http://10.1.1.1/v1", remote_url="http://gw.internal")
    fields = endpoint_fields(with_listening_address(owner, "0.0.0.0"))
    assert fields.shown and "public addresses only" in fields.help
    assert (
        fields.base_url_placeholder
        == fields.remote_url_placeholder
        == ("the app's configured endpoint")
    )
    local = endpoint_fields(with_listening_address(Settings(), "127.0.0.1"))
    assert local.base_url_placeholder == "https://api.openai.com/v1"
    assert "any address" in local.help
    hidden = endpoint_fields(with_listening_address(Settings(visitor_endpoints="off"), None))
    assert not hidden.shown


def test_the_sdk_environment_headers_are_omitted_by_name() -> None:
    env = {"OPENAI_CUSTOM_HEADERS": "X-Team: red\nX-Trace:1\nnot a header"}
    names = set(env_free_headers(env))
    assert names == {"OpenAI-Organization", "OpenAI-Project", "X-Team", "X-Trace"}
