"""Presets: a named system prompt, back end, model and parameters, saved per owner.

Pure list operations and the export format, plus two functions over the store's
per-owner preferences (``get_pref`` / ``set_pref``: one JSON list under one key, so
no table of its own). The export is a JSON object marked with ``format`` and
``version``; a file without that mark is refused, whatever else it holds.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any, Protocol

from chat_core.errors import LimitError, ValidationError
from chat_core.messages import GenerationParams
from chat_core.settings import BACKEND_CHOICES
from chat_core.tools.definitions import dump_tools, parse_tools

FORMAT = "streaming-chat-presets"
VERSION = 1
PREF_KEY = "workbench.presets"
MAX_NAME_CHARS = 60
MAX_PRESETS = 50


@dataclass(frozen=True, slots=True)
class Preset:
    """One named setup; ``model`` None means the back end's default."""

    name: str
    system: str | None = None
    backend: str = "auto"
    model: str | None = None
    temperature: float = 0.7
    max_tokens: int = 1000
    tools: str | None = None  # tool definitions, JSON text (chat_core.tools)

    def __post_init__(self) -> None:
        name = self.name.strip() if isinstance(self.name, str) else ""
        if not name or len(name) > MAX_NAME_CHARS:
            raise ValidationError("name", f"A preset name is 1 to {MAX_NAME_CHARS} characters.")
        object.__setattr__(self, "name", name)
        if self.backend not in BACKEND_CHOICES:
            raise ValidationError(
                "backend", f"Preset {name!r}: back end must be one of {', '.join(BACKEND_CHOICES)}."
            )
        # The same checks as a request's (model length, temperature, max tokens, system size).
        GenerationParams(self.model, self.temperature, self.max_tokens, self.system)
        if self.tools is not None and not isinstance(self.tools, str):
            raise ValidationError("tools", f"Preset {name!r}: tools must be JSON text.")
        object.__setattr__(self, "tools", dump_tools(parse_tools(self.tools)))  # checked

    @classmethod
    def from_dict(cls, raw: object) -> Preset:
        """A preset from its JSON object; ValidationError naming what is wrong."""
        if not isinstance(raw, Mapping):
            raise ValidationError("preset", "Each preset must be a JSON object.")
        known = {"name", "system", "backend", "model", "temperature", "max_tokens", "tools"}
        try:
            return cls(**{k: v for k, v in raw.items() if k in known})
        except TypeError as exc:
            raise ValidationError("preset", "A preset is missing its name.") from exc


def saved(presets: Sequence[Preset], preset: Preset) -> list[Preset]:
    """The list with ``preset`` saved: replacing one of the same name, else added."""
    out = [p for p in presets if p.name != preset.name]
    if len(out) >= MAX_PRESETS:
        raise LimitError("presets", f"At most {MAX_PRESETS} presets.")
    return sorted([*out, preset], key=lambda p: p.name.lower())


def renamed(presets: Sequence[Preset], old: str, new: str) -> list[Preset]:
    """The list with preset ``old`` called ``new``; refused if ``new`` is taken."""
    target = next((p for p in presets if p.name == old), None)
    if target is None:
        raise ValidationError("name", f"No preset named {old!r}.")
    fresh = replace(target, name=new)
    if fresh.name != old and any(p.name == fresh.name for p in presets):
        raise ValidationError("name", f"A preset named {fresh.name!r} already exists.")
    return saved([p for p in presets if p.name != old], fresh)


def deleted(presets: Sequence[Preset], name: str) -> list[Preset]:
    """The list without preset ``name``."""
    return [p for p in presets if p.name != name]


def export_presets(presets: Sequence[Preset]) -> str:
    """The presets as a JSON file this app (and only a file in this shape) imports."""
    items = [{k: v for k, v in asdict(p).items() if k != "tools" or v} for p in presets]
    body = {"format": FORMAT, "version": VERSION, "presets": items}
    return json.dumps(body, indent=2, ensure_ascii=False) + "\n"


def import_presets(data: bytes | str) -> list[Preset]:
    """The presets of an exported file; ValidationError for a file that is not one."""
    try:
        body = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationError("file", "This file is not JSON, so not a presets export.") from exc
    if not isinstance(body, dict) or body.get("format") != FORMAT:
        raise ValidationError("file", "This file is not a presets export from this app.")
    if body.get("version") != VERSION:
        raise ValidationError("file", f"Presets export version {body.get('version')!r} is unknown.")
    items = body.get("presets")
    if not isinstance(items, list) or len(items) > MAX_PRESETS:
        raise ValidationError("file", f"The export must list at most {MAX_PRESETS} presets.")
    return [Preset.from_dict(item) for item in items]


def merged(presets: Sequence[Preset], imported: Sequence[Preset]) -> list[Preset]:
    """``presets`` with the imported ones saved over any of the same name."""
    out = list(presets)
    for preset in imported:
        out = saved(out, preset)
    return out


class PrefStore(Protocol):
    """The store's per-owner preferences (``chat_core.storage``)."""

    def get_pref(self, owner: str, key: str, default: Any = None) -> Any: ...

    def set_pref(self, owner: str, key: str, value: Any) -> None: ...


def load_presets(store: PrefStore, owner: str) -> list[Preset]:
    """The owner's presets; a stored entry that no longer checks out is left out."""
    out = []
    for raw in store.get_pref(owner, PREF_KEY, []) or []:
        try:
            out.append(Preset.from_dict(raw))
        except ValidationError:
            continue
    return out


def save_presets(store: PrefStore, owner: str, presets: Sequence[Preset]) -> None:
    """Store the owner's presets (the whole list)."""
    store.set_pref(owner, PREF_KEY, [asdict(p) for p in presets])
