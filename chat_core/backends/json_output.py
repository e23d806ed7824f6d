"""JSON output for a schema: where it goes in each API's request, and a matching example.

Chat Completions takes ``response_format = {"type": "json_schema", "json_schema": {...}}``,
the Responses API ``text = {"format": {"type": "json_schema", ...}}`` (OpenAI's
"Structured Outputs" guide); a server that refuses both gets the schema in the system
prompt. ``example_instance`` is what the offline model answers with; ``validate_answer``
checks a final answer with ``jsonschema``. Pure.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jsonschema

SCHEMA_NAME = "answer"
_INSTRUCTION = "Answer only with JSON that matches this JSON Schema, no other text:"


def chat_response_format(schema: Mapping[str, Any]) -> dict[str, Any]:
    """Chat Completions' ``response_format`` for the schema."""
    return {
        "type": "json_schema",
        "json_schema": {"name": SCHEMA_NAME, "schema": dict(schema), "strict": False},
    }


def responses_text_format(schema: Mapping[str, Any]) -> dict[str, Any]:
    """The Responses API's ``text`` parameter for the schema."""
    return {
        "format": {
            "type": "json_schema",
            "name": SCHEMA_NAME,
            "schema": dict(schema),
            "strict": False,
        }
    }


def fallback_system(system: str | None, schema: Mapping[str, Any]) -> str:
    """The system prompt carrying the schema, for servers that refuse ``response_format``."""
    instruction = f"{_INSTRUCTION}\n{json.dumps(schema, ensure_ascii=False)}"
    return f"{system}\n\n{instruction}" if system else instruction


def schema_in_system(system: str | None) -> dict[str, Any] | None:
    """The schema ``fallback_system`` put into a system prompt, or None."""
    if not system or _INSTRUCTION not in system:
        return None
    try:
        schema = json.loads(system.split(_INSTRUCTION, 1)[1].strip())
    except ValueError:
        return None
    return schema if isinstance(schema, dict) else None


def requested_schema(body: Mapping[str, Any]) -> dict[str, Any] | None:
    """The schema a Chat Completions body asks for: response_format, else the system prompt."""
    fmt = body.get("response_format")
    if isinstance(fmt, Mapping) and fmt.get("type") == "json_schema":
        spec = fmt.get("json_schema")
        schema = spec.get("schema") if isinstance(spec, Mapping) else None
        return schema if isinstance(schema, dict) else None
    for message in body.get("messages") or ():
        if isinstance(message, Mapping) and message.get("role") in ("system", "developer"):
            content = message.get("content")
            if found := schema_in_system(content if isinstance(content, str) else None):
                return found
    return None


def example_instance(schema: Mapping[str, Any], *, broken: bool = False) -> Any:
    """A value matching ``schema`` (a few common keywords); ``broken`` drops a required field
    (or, with none required, gives the wrong type), so validation names the failure."""
    value = _example(schema)
    if not broken:
        return value
    required = schema.get("required")
    if isinstance(value, dict) and isinstance(required, list) and required:
        value.pop(required[0], None)
        return value
    return None if value is not None else "not null"


def _example(schema: Mapping[str, Any]) -> Any:
    if "const" in schema:
        return schema["const"]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), kind[0] if kind else None)
    if kind == "object" or (kind is None and "properties" in schema):
        props = schema.get("properties") or {}
        return {name: _example(sub) for name, sub in props.items() if isinstance(sub, Mapping)}
    if kind == "array":
        items = schema.get("items")
        count = max(1, int(schema.get("minItems", 1)))
        return [_example(items) if isinstance(items, Mapping) else "item"] * count
    if kind == "integer":
        return int(schema.get("minimum", 1))
    if kind == "number":
        return float(schema.get("minimum", 1.5))
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    text = "example"
    return text * max(1, -(-int(schema.get("minLength", 0)) // len(text)))


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
