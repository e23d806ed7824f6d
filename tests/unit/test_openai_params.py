"""Adapting request parameters to what a model accepts, from the providers' real 400 bodies."""

from __future__ import annotations

from typing import Any

import pytest

from chat_core import GenerationParams, build_conversation
from chat_core.backends.openai_params import (
    ParamMemory,
    ParamStyle,
    adapt,
    chat_request,
    responses_request,
)
from chat_core.errors import ValidationError


def body(message: str, param: str | None, code: str | None) -> dict[str, Any]:
    return {"message": message, "type": "invalid_request_error", "param": param, "code": code}


MAX_TOKENS = body(
    "Unsupported parameter: 'max_tokens' is not supported with this model. "
    "Use 'max_completion_tokens' instead.",
    "max_tokens",
    "unsupported_parameter",
)
TEMPERATURE = body(
    "Unsupported value: 'temperature' does not support 0.7 with this model. "
    "Only the default (1) value is supported.",
    "temperature",
    "unsupported_value",
)
NO_TEMPERATURE = body(
    "Unsupported parameter: 'temperature' is not supported with this model.",
    "temperature",
    "unsupported_parameter",
)
CONVERSATION = build_conversation("Hello")
PARAMS = GenerationParams()


def test_first_guess_modern_names_for_openai_and_azure_only() -> None:
    assert ParamStyle.initial(None, "gpt-4o").max_tokens_name == "max_completion_tokens"
    azure = ParamStyle.initial("https://x.openai.azure.com/openai/v1/", "my-deploy")
    assert azure.max_tokens_name == "max_completion_tokens" and azure.send_temperature
    local = ParamStyle.initial("http://127.0.0.1:11434/v1", "gpt-5")
    assert local == ParamStyle()  # a local server gets the classic names
    assert not ParamStyle.initial(None, "o3-mini").send_temperature


@pytest.mark.parametrize("refusal", [MAX_TOKENS, TEMPERATURE, {"error": MAX_TOKENS}])
def test_either_reasoning_model_refusal_fixes_both_parameters(refusal: dict[str, Any]) -> None:
    fixed = adapt(ParamStyle(), 400, refusal)
    assert fixed == ParamStyle("max_completion_tokens", send_temperature=False)
    request = chat_request(CONVERSATION, PARAMS, "m", fixed)
    assert request["max_completion_tokens"] == 1000
    assert "max_tokens" not in request and "temperature" not in request


def test_temperature_not_supported_drops_only_temperature() -> None:
    assert adapt(ParamStyle(), 400, NO_TEMPERATURE) == ParamStyle(send_temperature=False)
    # Without param/code, the quoted name in the message is enough.
    bare = {"message": "'temperature' is not supported with this model"}
    assert adapt(ParamStyle(), 400, bare) == ParamStyle(send_temperature=False)


def test_unknown_arguments_are_dropped_or_renamed_back() -> None:
    effort = {"message": "Unrecognized request argument supplied: reasoning_effort"}
    assert adapt(ParamStyle(), 400, effort) == ParamStyle(dropped=frozenset({"reasoning_effort"}))
    modern = ParamStyle("max_completion_tokens")
    old = {"message": "Unrecognized request argument supplied: max_completion_tokens"}
    assert adapt(modern, 400, old) == ParamStyle("max_tokens")


def test_unverified_organisations_get_no_reasoning_summaries() -> None:
    verify = body(
        "Your organization must be verified to generate reasoning summaries. Please go to: ...",
        "reasoning.summary",
        "unsupported_value",
    )
    style = adapt(ParamStyle(send_temperature=False), 400, verify)
    assert style is not None and "reasoning.summary" in style.dropped
    request = responses_request(
        CONVERSATION, GenerationParams(reasoning_effort="high"), "o3", style
    )
    assert request["reasoning"] == {"effort": "high"}


@pytest.mark.parametrize(
    ("status", "refusal"),
    [
        (400, body("Invalid 'messages': empty array.", "messages", "empty_array")),
        (401, MAX_TOKENS),  # not a parameter problem whatever the body says
        (400, "not json"),
        (400, body("The model `nope` does not exist", None, "model_not_found")),
        (400, {"message": "'messages' is not supported with this model"}),  # not optional
    ],
)
def test_other_errors_are_not_adapted(status: int, refusal: object) -> None:
    assert adapt(ParamStyle(), status, refusal) is None


def test_a_refusal_that_changes_nothing_is_not_retried() -> None:
    done = ParamStyle("max_completion_tokens", send_temperature=False)
    assert adapt(done, 400, MAX_TOKENS) is None


def test_memory_is_per_endpoint_and_model() -> None:
    memory = ParamMemory()
    learnt = ParamStyle("max_completion_tokens", send_temperature=False)
    memory.learn("http://a/v1", "m", learnt)
    assert memory.get("http://a/v1", "m") == learnt
    assert memory.get("http://a/v1", "other") == ParamStyle()
    assert memory.get("http://b/v1", "m") == ParamStyle()


def test_reasoning_effort_is_sent_only_when_chosen() -> None:
    assert "reasoning_effort" not in chat_request(CONVERSATION, PARAMS, "m", ParamStyle())
    chosen = GenerationParams(reasoning_effort="low")
    assert chat_request(CONVERSATION, chosen, "m", ParamStyle())["reasoning_effort"] == "low"
    with pytest.raises(ValidationError):
        GenerationParams(reasoning_effort="max")


def test_responses_request_shape() -> None:
    params = GenerationParams(system="Be brief.", max_tokens=64)
    request = responses_request(CONVERSATION, params, "gpt-4o-mini", ParamStyle())
    assert request == {
        "model": "gpt-4o-mini",
        "input": [{"role": "user", "content": "Hello"}],
        "instructions": "Be brief.",
        "max_output_tokens": 64,
        "temperature": 0.7,
        "stream": True,
        "store": False,
    }
    reasoning = responses_request(CONVERSATION, params, "o3", ParamStyle(send_temperature=False))
    assert reasoning["reasoning"] == {"summary": "auto"} and "temperature" not in reasoning
