"""Tool definitions: what the model may call, checked before any request carries them.

A definition is the function-calling shape every provider shares (OpenAI's
"Function calling" guide): a ``name`` (letters, digits, ``_`` and ``-``, at most 64:
the API's own pattern), a ``description`` and ``parameters``, a JSON Schema of the
arguments object. Each provider wraps it differently:

- Chat Completions: ``{"type": "function", "function": {"name", "description", "parameters"}}``
- Responses API:    ``{"type": "function", "name", "description", "parameters"}``

Definitions travel as JSON text (``GenerationParams.tools``), a list of
``{"name", "description", "parameters"}`` objects. Pure: no I/O.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from chat_core.errors import LimitError, ValidationError
from chat_core.messages import MAX_TOOLS_CHARS

NAME_PATTERN = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
MAX_TOOLS = 32
MAX_DESCRIPTION_CHARS = 1_024
_KEYS = {"name", "description", "parameters"}


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """One checked tool definition; ``parameters`` is a valid JSON Schema object."""

    name: str
    description: str
    parameters: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """The provider-neutral shape (as stored in settings and presets)."""
        return {"name": self.name, "description": self.description, "parameters": self.parameters}


def check_tool(item: object, where: str = "tool") -> ToolSpec:
    """One definition checked; ValidationError naming what is wrong."""
    if not isinstance(item, dict):
        raise ValidationError(where, f"{where}: a tool must be a JSON object")
    extra = set(item) - _KEYS
    if extra:
        raise ValidationError(where, f"{where}: unknown key {sorted(extra)[0]!r}")
    name = item.get("name")
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise ValidationError(where, f"{where}: the name must be 1-64 letters, digits, '_' or '-'")
    description = item.get("description", "")
    if not isinstance(description, str) or len(description) > MAX_DESCRIPTION_CHARS:
        raise ValidationError(
            where, f"{name}: the description must be text of at most {MAX_DESCRIPTION_CHARS}"
        )
    parameters = item.get("parameters", {"type": "object", "properties": {}})
    if not isinstance(parameters, dict):
        raise ValidationError(where, f"{name}: parameters must be a JSON Schema object")
    try:
        Draft202012Validator.check_schema(parameters)
    except SchemaError as exc:
        path = "/".join(str(p) for p in exc.path) or "the schema"
        raise ValidationError(
            where, f"{name}: parameters are not valid JSON Schema ({path}: {exc.message[:120]})"
        ) from exc
    if parameters.get("type", "object") != "object":
        raise ValidationError(
            where, f'{name}: parameters must describe an object ("type": "object")'
        )
    return ToolSpec(name, description, parameters)


def parse_tools(text: str | None) -> tuple[ToolSpec, ...]:
    """Definitions from JSON text (a list, or one object); () for nothing."""
    if text is None or not text.strip():
        return ()
    if len(text) > MAX_TOOLS_CHARS:
        raise LimitError("tools", f"The tool definitions are over {MAX_TOOLS_CHARS} characters.")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationError(
            "tools", f"The tools are not JSON: {exc.msg} (line {exc.lineno})."
        ) from exc
    items = data if isinstance(data, list) else [data]
    if len(items) > MAX_TOOLS:
        raise LimitError("tools", f"At most {MAX_TOOLS} tools.")
    specs = tuple(check_tool(item, f"tools[{i}]") for i, item in enumerate(items))
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise ValidationError("tools", "Two tools have the same name.")
    return specs


def dump_tools(specs: tuple[ToolSpec, ...] | list[ToolSpec]) -> str | None:
    """The JSON text of definitions (None for none), as ``GenerationParams.tools`` takes it."""
    return json.dumps([s.to_dict() for s in specs], indent=2) if specs else None


def chat_tools(specs: tuple[ToolSpec, ...]) -> list[dict[str, Any]]:
    """The ``tools`` parameter of ``chat.completions.create``."""
    return [{"type": "function", "function": s.to_dict()} for s in specs]


def responses_tools(specs: tuple[ToolSpec, ...]) -> list[dict[str, Any]]:
    """The ``tools`` parameter of ``responses.create``."""
    return [{"type": "function", **s.to_dict()} for s in specs]
