"""Structured output: a JSON schema checked, put into a request, and an answer validated.

Pure. Where the schema goes (OpenAI's docs, "Structured Outputs"):

- Chat Completions: ``response_format = {"type": "json_schema", "json_schema": {"name",
  "schema", "strict"}}``
- Responses API: ``text = {"format": {"type": "json_schema", "name", "schema", "strict"}}``
- a server that refuses either (a 400 naming it): the schema goes into the system prompt
  (``fallback_system``) and the page says so.

``strict`` stays off: strict mode demands every property be required and
``additionalProperties: false``, which would refuse most hand-written schemas.
``example_instance`` builds JSON that matches a schema (or, ``broken``, breaks its first
required property), for the offline model and the stub.
"""

from __future__ import annotations

import json
from typing import Any

import jsonschema
from jsonschema.exceptions import SchemaError

from chat_core.backends.json_output import (
    Validation,
    chat_response_format,
    example_instance,
    fallback_system,
    responses_text_format,
    validate_answer,
)
from chat_core.backends.openai_params import MEMORY, schema_fell_back
from chat_core.errors import LimitError, ValidationError
from chat_core.messages import MAX_SCHEMA_CHARS, GenerationParams

__all__ = [
    "Validation",
    "chat_response_format",
    "example_instance",
    "fallback_system",
    "parse_schema",
    "responses_text_format",
    "structured_fell_back",
    "validate_answer",
]


def parse_schema(text: str) -> dict[str, Any]:
    """A JSON schema from pasted text; ValidationError naming what is wrong."""
    if len(text) > MAX_SCHEMA_CHARS:
        raise LimitError("schema", f"The JSON schema is over {MAX_SCHEMA_CHARS} characters.")
    try:
        schema = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationError(
            "schema", f"The schema is not JSON: {exc.msg} (line {exc.lineno})."
        ) from exc
    if not isinstance(schema, dict):
        raise ValidationError("schema", "A JSON schema must be a JSON object.")
    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(top)"
        raise ValidationError(
            "schema", f"Not a valid JSON Schema at {where}: {exc.message}"
        ) from exc
    return schema


def structured_fell_back(params: GenerationParams, backend: object) -> bool:
    """True when this OpenAI-compatible back end's server refused the schema parameter, so
    the schema goes in the system prompt (learnt per endpoint and model, ``openai_params``)."""
    if getattr(backend, "name", None) != "openai":
        return False
    base_url, model = getattr(backend, "base_url", None), getattr(backend, "model", "")
    return schema_fell_back(params, MEMORY.get(base_url, params.model or model))
