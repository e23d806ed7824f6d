"""Share in the chat's menu, and the owner's "Shared links" list in the sidebar.

Both are drawn only while open (they query the links): the sidebar is drawn on every
rerun of every visitor. What the buttons do is ``chat_core.sharing``'s. A new link's
token is kept in this session only, to show the link again here; the database keeps
only its hash (docs/security.md, "Share links").
"""

from datetime import UTC, datetime

import streamlit as st

from chat_core import ChatError, ChatStore, load_settings, safe_markdown
from chat_core.sharing import (
    EXPIRY_CHOICES,
    ShareLink,
    ShareOptions,
    chat_links,
    link_caption,
    link_id,
    owner_links,
    revoke_link,
    share_chat,
    share_url,
    sharing_refusal,
    update_link,
)

APP_NAME = "Streaming chat"  # what the shared page says it is (streamlit_app.py's title)


def sharing_allowed() -> str | None:
    """Why this visitor may not make links (``CHAT_SHARING``), else None."""
    logged_in = st.user.to_dict().get("is_logged_in") is True
    return sharing_refusal(load_settings().sharing, logged_in=logged_in)


def new_tokens() -> dict[str, str]:
    """Links made in this session: share_id -> token (shown again while the session lasts)."""
    return st.session_state.setdefault("share_tokens", {})


def on_share(store: ChatStore, owner: str, conversation_id: str, key: str) -> None:
    options = ShareOptions(
        reasoning=st.session_state.get(f"{key}-reasoning", False),
        system=st.session_state.get(f"{key}-system", False),
    )
    expiry = st.session_state.get(f"{key}-expiry", next(iter(EXPIRY_CHOICES)))
    try:
        token = share_chat(
            store,
            owner,
            conversation_id,
            options,
            expiry=expiry,
            app=APP_NAME,
            now=datetime.now(UTC),
        )
    except (ChatError, ValueError) as exc:
        st.toast(f"No link made: {exc}", icon=":material/info:")
        return
    new_tokens()[link_id(token)] = token


def on_update(store: ChatStore, owner: str, link: ShareLink) -> None:
    try:
        done = update_link(store, owner, link, app=APP_NAME, now=datetime.now(UTC))
    except ChatError as exc:
        st.toast(f"Not updated: {exc}", icon=":material/info:")
        return
    st.toast(
        "Updated: the link shows the chat as it is now." if done else "This link is gone.",
        icon=":material/sync:",
    )


def on_revoke(store: ChatStore, owner: str, share_id: str) -> None:
    try:
        revoke_link(store, owner, share_id, now=datetime.now(UTC))
    except ChatError as exc:
        st.toast(f"Not revoked: {exc}", icon=":material/info:")
        return
    new_tokens().pop(share_id, None)
    st.toast("Revoked: the link opens nothing any more.", icon=":material/link_off:")


def show_link(store: ChatStore, owner: str, link: ShareLink, *, place: str) -> None:
    """One live link: what it is, the link itself when made in this session, its buttons.

    ``place``: ``menu`` (the chat's, with Update) or ``list`` (Shared links); a link may be
    in both at once.
    """
    short = f"{place}-{link.share_id[:16]}"
    with st.container(border=True, key=f"share-link-{short}"):
        st.caption(link_caption(link))
        if token := new_tokens().get(link.share_id):
            st.code(share_url(st.context.url, token), language=None, wrap_lines=True)
        with st.container(horizontal=True):
            if place == "menu":
                st.button(
                    "Update",
                    key=f"share-update-{short}",
                    icon=":material/sync:",
                    on_click=on_update,
                    args=(store, owner, link),
                    help="Show the chat as it is now, behind the same link.",
                )
            st.button(
                "Revoke",
                key=f"share-revoke-{short}",
                icon=":material/link_off:",
                on_click=on_revoke,
                args=(store, owner, link.share_id),
            )


def share_box(store: ChatStore, owner: str, conversation_id: str) -> None:
    """Share, in the chat's menu: its live links, and a new one with the owner's choices."""
    box = st.expander(
        "Share", icon=":material/share:", key=f"share-box-{conversation_id}", on_change="rerun"
    )
    if not box.open:
        return
    with box:
        if refusal := sharing_allowed():
            st.caption(refusal)
            return
        now = datetime.now(UTC)
        for link in chat_links(store, owner, conversation_id, now=now):
            show_link(store, owner, link, place="menu")
        key = f"share-{conversation_id}"
        st.selectbox("Link expires after", list(EXPIRY_CHOICES), key=f"{key}-expiry")
        st.checkbox("Include the reasoning", key=f"{key}-reasoning")
        st.checkbox("Include the system prompt", key=f"{key}-system")
        st.button(
            "Create link",
            key=f"{key}-create",
            icon=":material/add_link:",
            on_click=on_share,
            args=(store, owner, conversation_id, key),
        )
        st.caption(
            "Anyone with the link reads a copy of this chat as it is now, nothing else. "
            "Copy the link when it is made: only a fingerprint of it is kept."
        )


def shared_links(store: ChatStore, owner: str) -> None:
    """Every live link of this owner's, with Revoke (in the sidebar, under the chats)."""
    box = st.expander("Shared links", icon=":material/link:", key="shared-links", on_change="rerun")
    if not box.open:
        return
    with box:
        links = owner_links(store, owner, now=datetime.now(UTC))
        if not links:
            st.caption("No live links.")
        for link in links:
            st.markdown(safe_markdown(link.title or "Deleted chat"))
            show_link(store, owner, link, place="list")
