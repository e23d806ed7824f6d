"""Structured output: schemas checked, request pieces, answers validated, example answers."""

from __future__ import annotations

import json

import pytest

from chat_core.errors import ValidationError
from chat_core.workbench.structured import (
    chat_response_format,
    example_instance,
    fallback_system,
    parse_schema,
    responses_text_format,
    validate_answer,
)

SCHEMA = {
    "type": "object",
    "properties": {
        "city": {"type": "string", "minLength": 2},
        "temperature_c": {"type": "number"},
        "tags": {"type": "array", "items": {"type": "string"}, "minItems": 2},
        "sky": {"enum": ["clear", "cloudy"]},
    },
    "required": ["city", "temperature_c"],
}


def test_a_valid_schema_parses() -> None:
    assert parse_schema(json.dumps(SCHEMA)) == SCHEMA


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("{not json", "not JSON"),
        ("[1]", "must be a JSON object"),
        ('{"type": "strin"}', "Not a valid JSON Schema at type"),
        ('{"properties": {"a": {"type": 5}}}', "properties/a/type"),
        ('{"description": "' + "x" * 9000 + '"}', "over 8000"),
    ],
)
def test_a_bad_schema_is_named(text: str, named: str) -> None:
    with pytest.raises(ValidationError, match=named):
        parse_schema(text)


def test_request_pieces_follow_each_api() -> None:
    chat = chat_response_format(SCHEMA)
    assert chat["type"] == "json_schema" and chat["json_schema"]["schema"] == SCHEMA
    text = responses_text_format(SCHEMA)
    assert text["format"]["type"] == "json_schema" and text["format"]["schema"] == SCHEMA
    system = fallback_system("Be brief.", SCHEMA)
    assert system.startswith("Be brief.\n\n") and json.dumps(SCHEMA) in system


def test_the_example_matches_and_the_broken_one_names_the_missing_field() -> None:
    good = example_instance(SCHEMA)
    result = validate_answer(json.dumps(good), SCHEMA)
    assert result.valid and json.loads(result.formatted) == good
    bad = validate_answer(json.dumps(example_instance(SCHEMA, broken=True)), SCHEMA)
    assert not bad.valid
    assert bad.path == "$" and "'city' is a required property" in bad.message


def test_the_first_failing_path_and_message() -> None:
    answer = '```json\n{"city": "Oslo", "temperature_c": "cold", "tags": ["a", 3]}\n```'
    result = validate_answer(answer, SCHEMA)
    assert not result.valid
    assert (result.path, result.message) == ("$.tags[1]", "3 is not of type 'string'")
    assert result.to_dict()["schema_path"] == "$.tags[1]"
    prose = validate_answer("Sure! Here it is.", SCHEMA)
    assert not prose.valid and prose.message.startswith("not JSON")
