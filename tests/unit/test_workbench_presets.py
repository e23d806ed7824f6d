"""Presets: save, rename, delete, export and import, and a foreign file refused."""

from __future__ import annotations

import json

import pytest

from chat_core import ChatStore
from chat_core.errors import ValidationError
from chat_core.workbench import (
    Preset,
    deleted,
    export_presets,
    import_presets,
    load_presets,
    merged,
    renamed,
    save_presets,
    saved,
)

TERSE = Preset("Terse", system="Answer in one line.", backend="offline", temperature=0.2)
POET = Preset("Poet", system="Answer in verse.", model="gpt-4o-mini", max_tokens=300)


def test_save_replaces_by_name_and_keeps_names_sorted() -> None:
    presets = saved(saved([], TERSE), POET)
    assert [p.name for p in presets] == ["Poet", "Terse"]
    louder = Preset("Terse", system="One line, loudly.")
    assert saved(presets, louder)[1].system == "One line, loudly."
    assert len(saved(presets, louder)) == 2


def test_rename_and_delete() -> None:
    presets = [POET, TERSE]
    assert [p.name for p in renamed(presets, "Terse", "Brief")] == ["Brief", "Poet"]
    with pytest.raises(ValidationError, match="already exists"):
        renamed(presets, "Terse", "Poet")
    with pytest.raises(ValidationError, match="No preset named"):
        renamed(presets, "Nope", "X")
    with pytest.raises(ValidationError, match="1 to 60"):
        renamed(presets, "Terse", "   ")
    assert deleted(presets, "Poet") == [TERSE]


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"name": ""}, "1 to 60"),
        ({"name": "x" * 61}, "1 to 60"),
        ({"name": "a", "backend": "claude"}, "back end must be"),
        ({"name": "a", "temperature": 3}, "temperature"),
        ({"name": "a", "max_tokens": 0}, "max_tokens"),
        ({"name": "a", "system": "s" * 9000}, "system prompt"),
    ],
)
def test_bad_presets_are_refused_naming_the_field(fields: dict[str, object], named: str) -> None:
    with pytest.raises(ValidationError, match=named):
        Preset.from_dict(fields)


def test_export_then_import_gives_the_same_presets() -> None:
    text = export_presets([POET, TERSE])
    assert json.loads(text)["format"] == "streaming-chat-presets"
    assert import_presets(text) == [POET, TERSE]
    assert import_presets(text.encode()) == [POET, TERSE]


@pytest.mark.parametrize(
    ("data", "named"),
    [
        (b"\x89PNG\r\n", "not JSON"),
        (b"not json", "not JSON"),
        (b'{"conversations": []}', "not a presets export"),
        (b"[1, 2]", "not a presets export"),
        (b'{"format": "streaming-chat-presets", "version": 9, "presets": []}', "version 9"),
        (b'{"format": "streaming-chat-presets", "version": 1, "presets": {}}', "at most"),
        (b'{"format": "streaming-chat-presets", "version": 1, "presets": [7]}', "JSON object"),
    ],
)
def test_a_foreign_file_is_refused_with_a_message(data: bytes, named: str) -> None:
    with pytest.raises(ValidationError, match=named):
        import_presets(data)


def test_import_merges_over_the_same_names() -> None:
    mine = [TERSE]
    theirs = [Preset("Terse", system="Theirs."), POET]
    result = merged(mine, theirs)
    assert [(p.name, p.system) for p in result] == [("Poet", POET.system), ("Terse", "Theirs.")]


def test_presets_are_stored_per_owner() -> None:
    with ChatStore("sqlite://") as store:
        save_presets(store, "alice", [POET, TERSE])
        assert load_presets(store, "alice") == [POET, TERSE]
        assert load_presets(store, "bob") == []
        store.set_pref("bob", "workbench.presets", [{"name": "ok"}, {"name": ""}, "junk"])
        assert [p.name for p in load_presets(store, "bob")] == ["ok"]


def test_a_preset_keeps_its_tools_checked_and_exports_them() -> None:
    from chat_core.tools import EXAMPLE_TOOLS, dump_tools

    tools = dump_tools([EXAMPLE_TOOLS["get_weather"]])
    preset = Preset("Agent", tools=tools)
    [again] = import_presets(export_presets([preset]))
    assert again == preset and again.tools == tools
    assert "tools" not in export_presets([Preset("Plain")])  # older files look the same
    with pytest.raises(ValidationError):
        Preset("Bad", tools='[{"name": "f", "parameters": {"type": "nope"}}]')
