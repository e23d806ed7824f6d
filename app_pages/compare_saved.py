"""Compare's saved list (search, open, rename, delete), its exports, the vote and the leaderboard.

Page-side only; storage and the maths are ``chat_core.compare``.
"""

from typing import Any

import streamlit as st

from chat_core import ChatError, ChatStore, relative_age
from chat_core.compare import (
    ALL_BAD,
    BLIND_NAMES,
    TIE,
    CompareRecord,
    LaneSpec,
    compare_document,
    compare_filename,
    compare_json,
    compare_markdown,
    lane_turns,
    list_compares,
    owner_leaderboard,
    vote,
)

OPEN = "compare_open"  # the open compare's id ("" for the lanes editor)


def open_compare(conversation_id: str) -> None:
    st.session_state[OPEN] = conversation_id


def saved_compares(store: ChatStore, owner: str) -> None:
    """New compare, the saved compares (searchable), and the open one's rename and delete."""
    st.button(
        "New compare",
        key="new-compare",
        icon=":material/add:",
        type="primary",
        on_click=open_compare,
        args=("",),
    )
    query = st.text_input("Search compares", key="compare_search", placeholder="Titles, prompts")
    summaries = list_compares(store.db, owner, query)
    if not summaries:
        st.caption("No compares match." if query else "Saved compares show here.")
    current = st.session_state.get(OPEN, "")
    for summary in summaries:
        st.button(
            f"{summary.title or 'Compare'} · {summary.lanes} lanes · "
            f"{relative_age(summary.updated_at)}",
            key=f"compare-{summary.conversation_id}",
            type="secondary" if summary.conversation_id == current else "tertiary",
            on_click=open_compare,
            args=(summary.conversation_id,),
        )


def compare_actions(store: ChatStore, owner: str, record: CompareRecord) -> None:
    """Rename, delete and export the open compare, in a popover."""
    with st.popover("Compare", icon=":material/more_horiz:", key="compare-actions"):
        title = st.text_input("Title", value=record.title or "", key="compare-title", max_chars=200)
        if st.button("Rename", key="compare-rename") and title.strip():
            _guarded(lambda: store.rename(owner, record.conversation_id, title.strip()))
            st.rerun()
        # Made on click (deferred data): building them reads every lane's turns.
        st.download_button(
            "Export JSON",
            lambda: compare_json(_document(store, owner, record)),
            file_name=compare_filename(record.title, "json"),
            mime="application/json",
            key="compare-json",
            on_click="ignore",
        )
        st.download_button(
            "Export Markdown",
            lambda: compare_markdown(_document(store, owner, record)),
            file_name=compare_filename(record.title, "md"),
            mime="text/markdown",
            key="compare-md",
            on_click="ignore",
        )
        if st.button("Delete", key="compare-delete", icon=":material/delete:"):
            _guarded(lambda: store.delete(owner, record.conversation_id))
            open_compare("")
            st.rerun()


def _document(store: ChatStore, owner: str, record: CompareRecord) -> dict[str, Any]:
    """The compare's export document: each lane's settings, turns and the verdicts."""
    return compare_document(
        record.title,
        [LaneSpec(**lane) for lane in record.lanes],
        [lane_turns(store, owner, record, k) for k in range(len(record.lanes))],
        record.verdicts,
    )


def vote_row(store: ChatStore, owner: str, record: CompareRecord) -> None:
    """The verdict on the last turn: a lane better, a tie, or all bad."""
    names = [f"{BLIND_NAMES[k]} better" for k in range(len(record.lanes))]
    choices = {**{str(k): n for k, n in enumerate(names)}, TIE: "Tie", ALL_BAD: "All bad"}
    with st.container(horizontal=True, key="vote-row", vertical_alignment="center"):
        st.markdown("**Your vote:**")
        for value, label in choices.items():
            if st.button(label, key=f"vote-{value}"):
                _guarded(lambda value=value: vote(store, owner, record, value))
                st.rerun()


def show_leaderboard(store: ChatStore, owner: str) -> None:
    """Per model: votes won, tied, lost; median first token and tok/s over its answers."""
    rows = owner_leaderboard(store, owner)
    with st.expander("Leaderboard", icon=":material/leaderboard:", expanded=bool(rows)):
        if not rows:
            st.caption("Vote on a compare to start the leaderboard.")
            return
        st.table(
            [
                {
                    "model": r.model,
                    "won": r.won,
                    "tied": r.tied,
                    "lost": r.lost,
                    "median first token (s)": _round(r.median_first_token_s, 2),
                    "median tok/s": _round(r.median_tokens_per_s, 0),
                }
                for r in rows
            ]
        )


def _round(value: float | None, digits: int) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _guarded(action) -> None:
    try:
        action()
    except ChatError as exc:
        st.toast(f"Not done: {exc}", icon=":material/info:")
