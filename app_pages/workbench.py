"""The workbench's controls on the chat page: View code beside each answer.

The snippets come from ``chat_core.workbench`` (pure, unit-tested); this module only
draws them. Keys and the owner's endpoints appear as environment variable names.
"""

import streamlit as st

from chat_core import ChatError, ChatSession, GenerationParams, Settings, build_conversation
from chat_core.workbench import view_code

_LANGUAGE_HINT = {
    "python": "Needs `pip install openai`; set the variables named in it first.",
    "curl": "Set the variables named in it first; paste into a shell.",
    "gateway": "Wire protocol v1: one JSON object per `data:` line, then `done`.",
}


def view_code_popover(
    session: ChatSession,
    index: int,
    settings: Settings | None,
    params: GenerationParams | None,
    key: str,
) -> None:
    """A "View code" popover for the answer at ``index``; an empty slot when it cannot be built."""
    if settings is None or params is None:
        st.empty()
        return
    # Lazy: the snippets are built only while the popover is open (one rerun to open it).
    drawer = st.popover("View code", icon=":material/code:", key=key, on_change="rerun")
    with drawer:
        if drawer.open:
            show_snippets(session, index, settings, params)


def show_snippets(
    session: ChatSession, index: int, settings: Settings, params: GenerationParams
) -> None:
    turns = session.turns
    prompts = [i for i in range(index) if turns[i].role == "user"]
    if not prompts:
        st.caption("No prompt before this answer.")
        return
    asked = prompts[-1]
    try:
        history = session.model_history(turns[:asked])
        conversation = build_conversation(turns[asked].content, history)
        snippets = view_code(settings, conversation, params)
    except ChatError as exc:
        st.caption(f"No code for this answer: {exc}")
        return
    st.caption("The request for this answer with the current settings. Copy icon: top right.")
    for tab, snippet in zip(st.tabs([s.title for s in snippets]), snippets, strict=True):
        with tab:
            st.caption(_LANGUAGE_HINT[snippet.kind])
            st.code(snippet.source, language=snippet.language)
