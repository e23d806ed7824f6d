"""The Workbench popover's Presets: pick one to fill the settings panel; save, rename, delete,
export, import.

A preset sets the settings panel's own fields (their session-state keys), so what is
in use stays visible and editable there. Saved per owner in the chat store's prefs.
"""

import streamlit as st

from chat_core import ChatError, ChatStore
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

CACHE = "wb_presets"  # (owner, presets): read once per session, written through
MESSAGE = "wb_preset_message"
UPLOADS = "wb_preset_uploads"  # bumped to empty the uploader after an import


def sidebar_presets(store: ChatStore, owner: str) -> None:
    """The Presets section (in the Workbench popover; picking one fills the settings panel)."""
    presets = owner_presets(store, owner)
    with st.container(key="presets"):
        st.markdown("**Presets**")
        st.selectbox(
            "Use a preset",
            [p.name for p in presets],
            index=None,
            placeholder="Choose a preset" if presets else "No presets yet",
            key="wb_preset",
            on_change=on_pick,
            args=(presets,),
        )
        st.text_input("Preset name", key="wb_preset_name", placeholder="e.g. Terse reviewer")
        row = st.container(horizontal=True)
        row.button("Save current", key="wb_preset_save", on_click=on_save, args=(store, owner))
        row.button("Rename", key="wb_preset_rename", on_click=on_rename, args=(store, owner))
        row.button("Delete", key="wb_preset_delete", on_click=on_delete, args=(store, owner))
        if message := st.session_state.pop(MESSAGE, None):
            kind, text = message
            (st.error if kind == "error" else st.success)(text)
        st.download_button(
            "Export presets",
            export_presets(presets),
            file_name="presets.json",
            mime="application/json",
            disabled=not presets,
            icon=":material/download:",
        )
        key = f"wb_preset_import_{st.session_state.get(UPLOADS, 0)}"
        st.file_uploader(
            "Import presets", type=["json"], key=key, on_change=on_import, args=(store, owner, key)
        )


def owner_presets(store: ChatStore, owner: str) -> list[Preset]:
    cached = st.session_state.get(CACHE)
    if cached is None or cached[0] != owner:
        try:
            cached = (owner, load_presets(store, owner))
        except ChatError:
            cached = (owner, [])
        st.session_state[CACHE] = cached
    presets: list[Preset] = cached[1]
    return presets


def current_preset(name: str) -> Preset:
    """The settings panel's fields now, as a preset called ``name``."""
    state = st.session_state
    model = state.get("model_pick") or state.get("model_text") or None
    return Preset(
        name,
        system=state.get("system_prompt") or None,
        backend=state.get("backend_choice", "auto"),
        model=model,
        temperature=float(state.get("temperature", 0.7)),
        max_tokens=int(state.get("max_tokens", 1000)),
        tools=state.get("wb_tools") or None,
    )


def on_pick(presets: list[Preset]) -> None:
    chosen = next((p for p in presets if p.name == st.session_state.get("wb_preset")), None)
    if chosen is None:
        return
    state = st.session_state
    state["backend_choice"] = chosen.backend
    state["system_prompt"] = chosen.system or ""
    state["temperature"] = chosen.temperature
    state["max_tokens"] = chosen.max_tokens
    state["model_text"] = chosen.model or ""
    if chosen.model:
        state["model_pick"] = chosen.model
    else:
        state.pop("model_pick", None)  # the back end's default: the select's first option
    state["wb_tools"] = chosen.tools or ""
    state["wb_preset_name"] = chosen.name
    state[MESSAGE] = ("success", f"Preset {chosen.name!r} is in the settings panel.")


def _write(store: ChatStore, owner: str, presets: list[Preset], done: str) -> None:
    save_presets(store, owner, presets)
    st.session_state[CACHE] = (owner, presets)
    st.session_state[MESSAGE] = ("success", done)


def _guarded(action, *args) -> None:
    try:
        action(*args)
    except ChatError as exc:
        st.session_state[MESSAGE] = ("error", str(exc))


def on_save(store: ChatStore, owner: str) -> None:
    def save() -> None:
        preset = current_preset(st.session_state.get("wb_preset_name", ""))
        _write(store, owner, saved(owner_presets(store, owner), preset), f"Saved {preset.name!r}.")

    _guarded(save)


def on_rename(store: ChatStore, owner: str) -> None:
    def rename() -> None:
        old, new = st.session_state.get("wb_preset"), st.session_state.get("wb_preset_name", "")
        if not old:
            raise ChatError("Choose the preset to rename, then type its new name.")
        presets = renamed(owner_presets(store, owner), old, new)
        _write(store, owner, presets, f"Renamed {old!r} to {new.strip()!r}.")
        st.session_state["wb_preset"] = new.strip()

    _guarded(rename)


def on_delete(store: ChatStore, owner: str) -> None:
    def delete() -> None:
        name = st.session_state.get("wb_preset")
        if not name:
            raise ChatError("Choose the preset to delete.")
        _write(store, owner, deleted(owner_presets(store, owner), name), f"Deleted {name!r}.")
        st.session_state["wb_preset"] = None

    _guarded(delete)


def on_import(store: ChatStore, owner: str, key: str) -> None:
    upload = st.session_state.get(key)
    if upload is None:
        return

    def load() -> None:
        imported = import_presets(upload.getvalue())
        presets = merged(owner_presets(store, owner), imported)
        _write(store, owner, presets, f"Imported {len(imported)} preset(s).")

    _guarded(load)
    st.session_state[UPLOADS] = st.session_state.get(UPLOADS, 0) + 1
