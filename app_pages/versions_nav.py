"""Under each message: ``‹ 2/3 ›`` between its versions, deleting one, "Branch in new chat".

The arrows are real buttons (Tab reaches them, Enter or Space presses them) whose
names, "Previous version" and "Next version", are what a screen reader says; the
names are hidden on screen, where the chevron icons (aria-hidden) stand for them.
Switching works while an answer streams: that answer goes on in its own branch,
and switching back re-attaches to it (``ChatSession.switch_version``).
"""

import streamlit as st

from app_pages.chat_sidebar import guarded
from chat_core import ChatSession, ChatTurn

# The button names stay for screen readers and are hidden on screen (the icons show).
_CSS = """
div[class*="st-key-ver-"] button [data-testid="stMarkdownContainer"],
div[class*="st-key-fork-"] button [data-testid="stMarkdownContainer"] {
  position: absolute; width: 1px; height: 1px; overflow: hidden;
  clip: rect(0 0 0 0); clip-path: inset(50%); white-space: nowrap;
}
"""


def install_versions_style() -> None:
    st.html(f"<style>{_CSS}</style>")


def versions_row(session: ChatSession, turn: ChatTurn) -> None:
    """``‹ i/n ›`` and Delete when the message has other versions, then the fork button.

    The row always draws the same five slots (empty ones where nothing is offered): a
    block keeps last run's extra children on screen until the script ends.
    """
    if turn.message_id is None:
        return
    row = st.container(
        horizontal=True,
        vertical_alignment="center",
        gap="small",
        width="content",  # beside an answer's actions, on their line
        key=f"versions-{turn.message_id}",
    )
    place = turn.versions()
    with row:
        if place is None:
            for _ in range(3):
                st.empty()
        else:
            for label, icon, target, name in (
                ("Previous version", "chevron_left", place.previous_id, "prev"),
                (None, None, None, "label"),
                ("Next version", "chevron_right", place.next_id, "next"),
            ):
                if label is None:
                    st.caption(place.label, width="content")
                    continue
                st.button(
                    label,
                    icon=f":material/{icon}:",
                    key=f"ver-{name}-{turn.message_id}",
                    type="tertiary",
                    disabled=target is None,
                    on_click=guarded(session.switch_version),
                    args=(target,),
                    kwargs={"expected": session.version},
                )
        if place is None or session.phase != "idle":
            st.empty()
        else:  # destructive: a popover asks first
            with st.popover(
                "Delete this version",
                icon=":material/delete:",
                type="tertiary",
                key=f"ver-delete-{turn.message_id}-{session.version}",
            ):
                st.button(
                    "Delete it and what follows it",
                    key=f"delete-version-{turn.message_id}",
                    on_click=guarded(session.delete_version),
                    args=(turn.message_id,),
                    kwargs={"expected": session.version},
                )
        st.button(
            "Branch in new chat",
            icon=":material/call_split:",
            key=f"fork-{turn.message_id}",
            type="tertiary",
            help="Branch in new chat: a new chat with the messages up to this one",
            on_click=guarded(session.fork),
            args=(turn.message_id,),
        )
