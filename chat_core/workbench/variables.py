"""``{{name}}`` variables in a prompt or system prompt: find them, check them, fill them.

Pure. A template's variables become fields the person fills before sending; the text
sent has them filled, and the stored message keeps, beside the filled text, the
template and the values (``stored_params``) in its flat ``params`` JSON, so Edit can
show the fields again and the JSON export carries them. Filling is one pass: a value
that itself contains ``{{x}}`` is sent as typed, never filled again.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass

from chat_core.errors import LimitError, ValidationError
from chat_core.messages import MAX_MESSAGE_CHARS, MAX_SYSTEM_CHARS

# Everything from "{{" to the next "}}": the name inside is then checked on its own, so
# "{{ci{ty}}" is named as a bad variable rather than silently left as text.
_PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,63}")
MAX_VALUE_CHARS = MAX_MESSAGE_CHARS

# Keys in a stored message's params (flat JSON: one string each).
TEMPLATE_KEY = "template"
SYSTEM_TEMPLATE_KEY = "system_template"
VALUES_KEY = "template_values"  # the values as a JSON object, in one string
# Stored params are flat objects of strings of at most 2000 characters and 64 keys
# (storage.records): a longer text is kept in pieces, "template", "template:1", ...
_PIECE_CHARS = 2000
_MAX_PIECES = 60


def has_placeholders(text: str | None) -> bool:
    """True when ``text`` holds anything written as ``{{...}}``, well-formed or not."""
    return bool(text) and _PLACEHOLDER.search(text or "") is not None


def find_variables(*texts: str | None) -> list[str]:
    """The variable names in the texts, first appearance first; ValidationError for a bad one."""
    names: list[str] = []
    for text in texts:
        for match in _PLACEHOLDER.finditer(text or ""):
            inner = match[1].strip()
            if "{" in inner or "}" in inner:
                raise ValidationError(
                    "variable", f"Variable {match[0]!r} has braces inside its name."
                )
            if not inner:
                raise ValidationError("variable", "A variable {{}} has no name.")
            if not _NAME.fullmatch(inner):
                raise ValidationError(
                    "variable",
                    f"Variable name {inner!r} must be a letter or _ then letters, digits, "
                    "_ . or - (64 at most).",
                )
            if inner not in names:
                names.append(inner)
    return names


def fill(text: str, values: Mapping[str, str]) -> str:
    """``text`` with each ``{{name}}`` replaced by its value (names already checked)."""
    return _PLACEHOLDER.sub(lambda m: values[m[1].strip()], text)


@dataclass(frozen=True, slots=True)
class Filled:
    """A prompt and system prompt with their variables filled, and what to store beside them."""

    prompt: str
    system: str | None
    stored_params: dict[str, str]


def fill_templates(prompt: str, system: str | None, values: Mapping[str, str]) -> Filled:
    """Check every variable has a value and the filled texts fit; fill them.

    Raises ValidationError (an empty or missing value, a bad name) or LimitError (too
    long once filled), naming the variable or the text; nothing is half done.
    """
    names = find_variables(prompt, system)
    for name in names:
        value = values.get(name, "")
        if not value.strip():
            raise ValidationError(name, f"Variable {{{{{name}}}}} is empty: fill it in.")
        if len(value) > MAX_VALUE_CHARS:
            raise LimitError(name, f"Variable {{{{{name}}}}} is over {MAX_VALUE_CHARS} characters.")
    used = {name: values[name] for name in names}
    filled_prompt = fill(prompt, used)
    filled_system = fill(system, used) if system else system
    if len(filled_prompt) > MAX_MESSAGE_CHARS:
        raise LimitError(
            "message",
            f"With its variables filled the prompt is over {MAX_MESSAGE_CHARS} characters.",
        )
    if filled_system and len(filled_system) > MAX_SYSTEM_CHARS:
        raise LimitError(
            "system",
            f"With its variables filled the system prompt is over {MAX_SYSTEM_CHARS} characters.",
        )
    stored: dict[str, str] = {}
    if names:
        stored = _pieces(TEMPLATE_KEY, prompt)
        stored |= _pieces(VALUES_KEY, json.dumps(used, ensure_ascii=False))
        if system and find_variables(system):
            stored |= _pieces(SYSTEM_TEMPLATE_KEY, system)
        if len(stored) > _MAX_PIECES:
            raise LimitError("variable", "The template and its values are too long to store.")
    return Filled(filled_prompt, filled_system, stored)


def _pieces(key: str, text: str) -> dict[str, str]:
    parts = [text[i : i + _PIECE_CHARS] for i in range(0, len(text), _PIECE_CHARS)] or [""]
    return {(key if i == 0 else f"{key}:{i}"): part for i, part in enumerate(parts)}


def _joined(params: Mapping[str, object], key: str) -> str | None:
    first = params.get(key)
    if not isinstance(first, str):
        return None
    parts, i = [first], 1
    while isinstance(part := params.get(f"{key}:{i}"), str):
        parts.append(part)
        i += 1
    return "".join(parts)


@dataclass(frozen=True, slots=True)
class StoredTemplate:
    """What a stored message kept of its template: the texts and the values filled in."""

    prompt: str
    system: str | None
    values: dict[str, str]


def stored_template(params: Mapping[str, object]) -> StoredTemplate | None:
    """The template a stored message was sent from, or None (none, or not ours)."""
    template, raw = _joined(params, TEMPLATE_KEY), _joined(params, VALUES_KEY)
    if template is None or raw is None:
        return None
    try:
        values = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(values, dict) or not all(isinstance(v, str) for v in values.values()):
        return None
    return StoredTemplate(template, _joined(params, SYSTEM_TEMPLATE_KEY), values)
