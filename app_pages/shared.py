"""The shared page: a chat's snapshot behind a share link, read-only and inert.

Reached as ``/shared?t=TOKEN`` (a hidden page of the app's navigation). It shows the
snapshot as the chat shows answers (markdown without raw HTML, images made inert), the
app's name and when it was shared, and nobody's chat list. Any token that opens nothing
gets the one "not available" page. The page reads who the visitor is only when they
press "Continue this chat", and never writes the identity cookie: a token is not an
identity, and opens this snapshot only.
"""

from datetime import UTC, datetime

import streamlit as st

from app_pages.identity import current_identity
from app_pages.stores import open_default_store
from chat_core import (
    ChatError,
    ChatTurn,
    Settings,
    answer_badge,
    answer_blocks,
    load_settings,
    reasoning_blocks,
    safe_markdown,
    thinking_label,
    user_markdown,
)
from chat_core.sharing import (
    NOT_AVAILABLE,
    SharedChat,
    continue_shared,
    open_link,
    shared_on,
    stored_messages,
)

# Crawlers that render scripts read this (Google does); the HTTP header is not ours to set
# under `streamlit run` (docs/security.md, "Share links").
_NOINDEX = """<script>
if (!document.querySelector('meta[name="robots"]')) {
  const meta = document.createElement("meta");
  meta.name = "robots";
  meta.content = "noindex, nofollow";
  document.head.appendChild(meta);
}
</script>"""


def not_available() -> None:
    """The one page for every link that opens nothing: no hint of why."""
    st.title("Shared chat")
    st.info(NOT_AVAILABLE, icon=":material/link_off:")
    st.page_link("app_pages/chat.py", label="Go to the chat", icon=":material/chat:")
    st.stop()


def show_message(turn: ChatTurn) -> None:
    """One message as the chat shows it, without any control."""
    with st.chat_message(turn.role):
        if turn.role == "user":
            st.markdown(user_markdown(turn.content))
            return
        if turn.reasoning:
            seconds = turn.metrics.thinking_s if turn.metrics else None
            with st.expander(thinking_label(seconds), icon=":material/psychology:"):
                for piece in reasoning_blocks(turn.reasoning):
                    st.markdown(piece)
        for piece in answer_blocks(turn.content):
            st.markdown(piece)
        caption = turn.metrics.caption() if turn.metrics else ""
        badge = answer_badge(turn.shown_status, turn.finish_reason)
        line = " · ".join(x for x in (badge, turn.model or "", caption) if x)
        if line:
            st.caption(line)
        if turn.error is not None:
            st.error(turn.error.message, icon=":material/error:")


def on_continue(chat: SharedChat, base: Settings) -> None:
    """Copy the snapshot into the visitor's own chats and open it there."""
    identity = current_identity(base)  # the cookie as read: nothing is written
    store = open_default_store(base)
    try:
        copy = continue_shared(store, identity.owner, chat)
    except ChatError as exc:
        st.session_state["continue_error"] = f"Not copied: {exc}"
        return
    st.session_state["continue_to"] = copy.id  # the chat page opens it from its URL


# -- the page, top to bottom -------------------------------------------------------------------
if copied := st.session_state.pop("continue_to", None):  # Continue made the visitor's copy
    st.switch_page("app_pages/chat.py", query_params={"c": copied})
st.html(_NOINDEX, unsafe_allow_javascript=True)
base = load_settings()
if base.sharing == "off":  # the owner turned sharing off: every link is dead
    not_available()
try:
    chat = open_link(open_default_store(base), st.query_params.get("t"), now=datetime.now(UTC))
except ChatError:  # the database away: not the link's fault, and the same for every link
    st.error(
        "Shared chats cannot be read right now. Try again in a minute.",
        icon=":material/database_off:",
    )
    st.stop()
if chat is None:
    not_available()

st.caption(f"{chat.app or 'Streaming chat'} · {shared_on(chat.shared_at)} · read-only")
st.title(safe_markdown(chat.title), anchor=False)
for system in chat.system:
    with st.expander("System prompt", icon=":material/tune:"):
        st.code(system, language=None, wrap_lines=True)
for message in stored_messages(chat):
    show_message(ChatTurn.from_stored(message))
if error := st.session_state.pop("continue_error", None):
    st.error(error, icon=":material/block:")
st.button(
    "Continue this chat",
    icon=":material/forum:",
    type="primary",
    key="continue-shared",
    on_click=on_continue,
    args=(chat, base),
    help="A copy of this chat among your own chats, to go on with. The original is not changed.",
)
