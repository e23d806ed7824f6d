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
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jsonschema
from jsonschema.exceptions import SchemaError

from chat_core.backends.json_output import (
    chat_response_format,
    example_instance,
    fallback_system,
    responses_text_format,
)
from chat_core.errors import LimitError, ValidationError
from chat_core.messages import MAX_SCHEMA_CHARS

__all__ = [
    "Validation",
    "chat_response_format",
    "example_instance",
    "fallback_system",
    "parse_schema",
    "responses_text_format",
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


@dataclass(frozen=True, slots=True)
class Validation:
    """An answer checked against the schema: valid, or the first failing path and why."""

    valid: bool
    path: str = ""
    message: str = ""
    formatted: str = ""  # the answer as indented JSON, when it parses

    def to_dict(self) -> dict[str, Any]:
        """Flat, for a stored answer's metrics (and so its export)."""
        return {"schema_valid": self.valid, "schema_path": self.path, "schema_error": self.message}


def validate_answer(text: str, schema: Mapping[str, Any]) -> Validation:
    """Parse the answer as JSON (a ```json fence allowed) and validate it."""
    body = _unfenced(text)
    try:
        value = json.loads(body)
    except json.JSONDecodeError as exc:
        return Validation(False, "(answer)", f"not JSON: {exc.msg}")
    formatted = json.dumps(value, indent=2, ensure_ascii=False)
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(value), key=lambda e: [str(p) for p in e.absolute_path])
    if not errors:
        return Validation(True, formatted=formatted)
    first = errors[0]
    path = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in first.absolute_path)
    return Validation(False, path, first.message, formatted)


def _unfenced(text: str) -> str:
    stripped = text.strip()
    if stripped.startswith("```"):
        stripped = stripped.split("\n", 1)[1] if "\n" in stripped else ""
        stripped = stripped.rsplit("```", 1)[0]
    return stripped.strip()
