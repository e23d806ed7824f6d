"""Structured output over the real SDK against the stub: the schema sent as response_format,
the stub's offline model answering JSON that matches, and the fallback into the system
prompt when a server refuses response_format with a 400 naming it."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from chat_core import GenerationParams, answer_text, build_conversation
from chat_core.backends.openai import OpenAIBackend
from chat_core.backends.openai_params import ParamMemory, schema_fell_back
from chat_core.openai_stub import create_app
from chat_core.workbench import validate_answer
from tests.support.servers import serve_app

pytestmark = pytest.mark.integration

SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "temperature_c": {"type": "number"}},
    "required": ["city", "temperature_c"],
}
PARAMS = GenerationParams(system="Report the weather.", response_schema=json.dumps(SCHEMA))


@pytest.fixture(scope="module")
def stub_url() -> Iterator[str]:
    with serve_app(create_app(tokens_per_second=5000)) as url:
        yield url


def ask(stub_url: str, model: str, memory: ParamMemory) -> str:
    backend = OpenAIBackend(
        api_key="k", base_url=stub_url + "/v1", model=model, api="chat", memory=memory
    )
    events = list(backend.stream(build_conversation("Weather in Oslo?"), PARAMS))
    return answer_text(events)


def test_the_schema_goes_as_response_format_and_the_answer_validates(stub_url: str) -> None:
    memory = ParamMemory()
    answer = ask(stub_url, "gpt-test", memory)
    result = validate_answer(answer, SCHEMA)
    assert result.valid, (answer, result)
    assert not schema_fell_back(PARAMS, memory.get(stub_url + "/v1", "gpt-test"))


def test_a_server_refusing_response_format_gets_the_schema_in_the_system_prompt(
    stub_url: str,
) -> None:
    refused = httpx.post(
        stub_url + "/v1/chat/completions",
        json={
            "model": "gpt-noschema",
            "messages": [{"role": "user", "content": "hi"}],
            "response_format": {"type": "json_schema", "json_schema": {"name": "a", "schema": {}}},
        },
    )
    assert refused.status_code == 400 and "response_format" in refused.text
    memory = ParamMemory()
    answer = ask(stub_url, "gpt-noschema", memory)
    assert validate_answer(answer, SCHEMA).valid, answer
    assert schema_fell_back(PARAMS, memory.get(stub_url + "/v1", "gpt-noschema"))
    assert validate_answer(ask(stub_url, "gpt-noschema", memory), SCHEMA).valid  # remembered
