"""Which model is used: the server's when it lists models, said in a note; names checked."""

from __future__ import annotations

import pytest

from chat_core import Settings, VisitorInput, choose_model, connection_report
from chat_core.backends.model_list import ModelList
from chat_core.backends.models import (
    MAX_LISTED_MODELS,
    listed_chat_models,
    model_name_problem,
    pick_model,
)

AT = "127.0.0.1:11434"


def test_the_servers_only_model_is_used_when_none_is_configured() -> None:
    pick = pick_model(None, ["llama3.2:1b"], default="gpt-4o-mini", where=AT)
    assert pick.name == "llama3.2:1b"
    assert pick.note == f"Using `llama3.2:1b`, its only model of {AT}."


def test_a_configured_model_the_server_lists_is_used_silently() -> None:
    pick = pick_model("qwen3", ["llama3.2", "qwen3"], default="gpt-4o-mini", where=AT)
    assert pick.name == "qwen3" and pick.note is None


def test_a_configured_model_the_server_does_not_list_gives_way_to_its_first() -> None:
    pick = pick_model("gpt-4o-mini", ["llama3.2", "qwen3"], default="gpt-4o-mini", where=AT)
    assert pick.name == "llama3.2"
    assert pick.note is not None and "does not serve `gpt-4o-mini`" in pick.note and AT in pick.note


def test_openai_s_own_list_keeps_the_default_not_its_first_entry() -> None:
    listed = ["babbage-002", "gpt-4o", "gpt-4o-mini"]
    assert pick_model(None, listed, default="gpt-4o-mini", where=AT).name == "gpt-4o-mini"
    assert pick_model("nope", listed, default="gpt-4o-mini", where=AT).name == "gpt-4o-mini"


@pytest.mark.parametrize("served", [None, []])
def test_without_a_list_the_configured_name_or_default_is_all_there_is(served) -> None:
    assert pick_model("mine", served, default="gpt-4o-mini", where=AT).name == "mine"
    assert pick_model(None, served, default="gpt-4o-mini", where=AT).name == "gpt-4o-mini"


@pytest.mark.parametrize("name", ["gpt 4o", "a\tb", "x" * 500, "line\nbreak"])
def test_model_names_with_spaces_or_500_characters_are_refused(name: str) -> None:
    assert model_name_problem(name) is not None


@pytest.mark.parametrize("name", ["llama3.2:1b", "org/model-7B", "gpt-4o-mini"])
def test_real_model_names_pass(name: str) -> None:
    assert model_name_problem(name) is None


def test_a_list_of_10000_models_is_cut_and_cleaned() -> None:
    listed: list[object] = [f"model-{i}" for i in range(10_000)]
    listed[:0] = ["text-embedding-3-small", "bad name", None, 7, "x" * 500, "model-0"]
    names = listed_chat_models(listed)
    assert len(names) == MAX_LISTED_MODELS
    assert names[0] == "model-0" and len(set(names)) == len(names)


def test_the_model_field_starts_over_per_endpoint() -> None:
    offline = Settings(backend="offline")
    typed = Settings(visitor=VisitorInput(openai_base_url="http://127.0.0.1:8931/v1"))
    served = ModelList(("served-model",))
    choice = choose_model(typed, served)
    assert choice.endpoint != choose_model(offline, ModelList(("offline-scripted",))).endpoint
    assert choice.pick.name == "served-model" and choice.options == ["served-model"]
    assert choice.used("") == "served-model" and choice.used(" other ") == "other"


def test_no_list_means_a_text_field_with_the_reason_beside_it() -> None:
    settings = Settings(openai_base_url="http://127.0.0.1:8931", visitor_endpoints="any")
    choice = choose_model(settings, ModelList(None, "127.0.0.1:8931 has no model list (404)."))
    assert choice.options is None and choice.caption is not None and "404" in choice.caption
    pending = choose_model(settings, ModelList(None, pending=True))
    assert pending.caption == "Asking 127.0.0.1:8931 for its models…"


def test_a_deployed_apps_visitors_are_not_told_where_the_owners_server_is() -> None:
    settings = Settings(openai_base_url="http://10.1.2.3:8931/v1", visitor_endpoints="public")
    pending = choose_model(settings, ModelList(None, pending=True))
    assert pending.caption == "Asking the app's model server for its models…"
    served = choose_model(settings, ModelList(("llama3.2:1b",)))
    assert served.caption is not None and "10.1.2.3" not in served.caption


def test_a_remote_server_picks_its_own_model_unless_one_is_typed() -> None:
    choice = choose_model(Settings(remote_url="http://127.0.0.1:8000/api/chat/stream"), None)
    assert choice.used("") == "" and choice.used("m") == "m"


def test_connection_report() -> None:
    ok = connection_report(ModelList(tuple(f"m{i}" for i in range(25))), AT)
    assert ok[0] == "ok" and "`m0`" in ok[1] and "and 5 more" in ok[1]
    assert connection_report(ModelList(None, "refused"), AT) == ("bad", "refused")
    assert connection_report(ModelList(None, pending=True), AT)[0] == "wait"
