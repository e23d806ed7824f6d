"""The chat page's sidebar: New chat, this chat's actions, the chat list, import, usage.

Page-side (Streamlit) code only; what the buttons do lives in ``ChatSession`` and
``ChatStore``.
"""

from functools import partial, wraps

import streamlit as st

from app_pages.share_menu import share_box, shared_links
from chat_core import (
    SEARCH_FROM,
    ChatError,
    ChatSession,
    ChatStore,
    Settings,
    applicable_prices,
    default_price_table,
    export_filename,
    export_json,
    export_markdown,
    format_cost,
    import_json,
    parse_price_rows,
    price_rows,
    relative_age,
    same_chat,
    search_conversations,
)


def guarded(action):
    """A widget callback that a late click cannot turn into an exception page."""

    @wraps(action)
    def run(*args, **kwargs):
        try:
            action(*args, **kwargs)
        except (ChatError, ValueError, RuntimeError) as exc:
            st.toast(f"Not done: {exc}", icon=":material/info:")

    return run


def sidebar_chats(store: ChatStore, session: ChatSession) -> None:
    """New chat and this chat's actions side by side, the chat list (searchable), import."""
    stored = session.shown  # read by this rerun's sync; while an answer streams, read again
    if session.conversation_id and (stored is None or session.live is not None):
        try:
            stored = store.get_conversation(session.owner, session.conversation_id)
        except ChatError:  # the database away: New chat still works, the list below says why
            stored = None
    with st.container(horizontal=True, vertical_alignment="center"):
        st.button(
            "New chat",
            key="new-chat",  # chat_behaviour.js closes the phone drawer on it
            icon=":material/add_comment:",
            type="primary",
            on_click=guarded(session.new_conversation),
        )
        if stored is not None:
            chat_actions(store, session, stored)
    summaries = store.list_conversations(session.owner, limit=200)
    if len(summaries) >= SEARCH_FROM:
        query = st.text_input(
            "Search chats", placeholder="Search titles and messages", key="chat_search"
        )
        found = search_conversations(store, session.owner, query)
        if found is not None:
            summaries = [s for s in summaries if s.id in found]
            if not summaries:
                st.caption("No chats match.")
    # No fixed-height box: the sidebar scrolls, and a 200 px box showed 3 chats of 11.
    with st.container(border=False, key="chat-list"):
        for summary in summaries:
            current = summary.id == session.conversation_id
            st.button(
                f"{summary.title} · {relative_age(summary.updated_at)}",
                key=f"conv-{summary.id}",
                type="secondary" if current else "tertiary",
                icon=":material/chat_bubble:" if current else None,
                on_click=guarded(session.open),
                args=(summary.id,),
                width="stretch",
            )
    with st.expander("Import a chat", icon=":material/upload:"):
        st.file_uploader(
            "A JSON export",
            type=["json"],
            key="import_file",
            on_change=on_import,
            args=(store, session),
        )
        if error := st.session_state.pop("import_error", None):
            st.error(error, icon=":material/block:")
    shared_links(store, session.owner)


def on_import(store: ChatStore, session: ChatSession) -> None:
    upload = st.session_state.get("import_file")
    if upload is None:
        return
    data = upload.getvalue()
    try:
        if (already := same_chat(store, session.owner, data)) is not None:
            # A re-import opens the chat already here rather than add an identical twin.
            st.toast("This chat is already in your list: opened it.", icon=":material/info:")
            session.open(already)
            return
        imported = import_json(store, session.owner, data)
    except ChatError as exc:
        st.session_state["import_error"] = f"Could not import {upload.name}: {exc}"
    else:
        session.open(imported.id)


def export_file(store: ChatStore, owner: str, conversation_id: str, kind: str) -> str:
    """The chat as a file, made when its download button is clicked (not on every rerun).

    JSON holds every version of every message (the whole tree); Markdown the branch shown.
    """
    stored = store.get_conversation(owner, conversation_id, whole_tree=kind == "json")
    if stored is None:  # deleted meanwhile
        return ""
    ids = [m.id for m in stored.tree or stored.messages]
    files = store.attachments_of(owner, ids)
    if kind == "md":
        return export_markdown(stored, files)
    return export_json(stored, files, store.tool_calls_of(owner, ids))


def chat_actions(store: ChatStore, session: ChatSession, stored) -> None:
    """Rename, export, clear and delete this chat; the destructive ones ask first."""
    title, conversation_id = stored.title, stored.id
    with st.popover(
        "This chat", icon=":material/more_horiz:", key=f"chat-actions-{session.version}"
    ):
        typed = st.text_input("Title", value=title, max_chars=200, key=f"title-{conversation_id}")
        if typed.strip() and typed != title:
            try:
                store.rename(session.owner, conversation_id, typed)
            except ChatError as exc:
                st.warning(f"Not renamed: {exc}", icon=":material/database_off:")
            else:
                st.rerun()
        with st.container(horizontal=True):
            for label, kind, mime in (
                ("Markdown", "md", "text/markdown"),
                ("JSON", "json", "application/json"),
            ):
                st.download_button(
                    label,
                    partial(export_file, store, session.owner, conversation_id, kind),  # on click
                    export_filename(stored, kind),
                    mime,
                    icon=":material/download:",
                    on_click="ignore",
                )
        idle = session.phase == "idle"
        # A toggle to arm, then the button: one click never clears or deletes a chat.
        for ask, name, action, allowed in (
            (f"Clear its {stored.total_messages} messages", "clear", session.clear, idle),
            ("Delete this chat", "delete", session.delete_conversation, True),
        ):
            if st.toggle(ask, key=f"confirm-{name}-{session.version}", disabled=not allowed):
                st.button(
                    f"{name.capitalize()} for good",
                    key=name,
                    type="primary",
                    on_click=guarded(action),
                    kwargs={"expected": session.version},
                )
        share_box(store, session.owner, conversation_id)


def sidebar_usage(session: ChatSession, settings: Settings) -> dict:
    """Tokens and estimated cost of this chat, and the prices that apply to its endpoint."""
    usage_box = st.sidebar.expander(
        "Usage and prices", icon=":material/payments:", key="usage-box", on_change="rerun"
    )
    with usage_box:
        totals = st.container()
        # The editor only while open: building it (pandas, Arrow) on every rerun was a tenth
        # of a streaming server's CPU. Closed, it is forgotten; reopened, it starts from the
        # prices in use, and keeps its edits against those rows while it stays open.
        if usage_box.open:
            st.caption("USD per million tokens; edit to match your provider (this session only).")
            if "price_editor" not in st.session_state:
                in_use = st.session_state.get("prices", default_price_table())
                st.session_state["price_editor_rows"] = price_rows(in_use)
            edited = st.data_editor(
                st.session_state["price_editor_rows"],
                num_rows="dynamic",
                key="price_editor",
                width="stretch",
            )
            try:
                st.session_state["prices"] = parse_price_rows(edited)
            except ChatError as exc:
                st.error(str(exc))
        table = st.session_state.setdefault("prices", default_price_table())
        prices = applicable_prices(table, settings)  # a local server is free unless priced
        usage = session.usage(prices)
        approx = "~" if usage.estimated else ""
        totals.metric("Tokens in this chat", f"{approx}{usage.total_tokens:,}")
        if usage.cost_usd is not None:
            totals.metric("Estimated cost", format_cost(usage.cost_usd))
    return prices
