"""Logging in on the page: the gate when login is required, Log in, and what login changes.

The decisions and the words are ``chat_core.chat.login``'s; this module talks to Streamlit
and to the store (the two notes it keeps under the browser's identity: when a login
started, and that the browser's chats were kept here).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import streamlit as st
from streamlit.errors import StreamlitAuthError

from app_pages.identity import keep_browser_token
from chat_core import ChatError, ChatStore, Identity, Settings, load_settings, user_markdown
from chat_core.chat.login import (
    KEPT_PREF,
    LOGIN_STARTED_PREF,
    chats_to_offer,
    denied_text,
    gate,
    gate_text,
    kept_text,
    login_outcome,
    login_started,
    move_offer_text,
    moved_text,
    unconfigured_text,
)

log = logging.getLogger(__name__)


def auth_configured() -> bool:
    """Whether the owner set up Streamlit's login (an ``[auth]`` section in secrets)."""
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all
        return False


def note(store: ChatStore, identity: Identity, started: str | None) -> None:
    """Note (or clear) a login started in this browser."""
    try:
        store.set_pref(identity.browser, LOGIN_STARTED_PREF, started)
    except ChatError:  # no note, no message after a refusal; the login itself still works
        log.warning("could not note the start of a login", exc_info=True)


def start_login(store: ChatStore, identity: Identity) -> None:
    """Log in's callback: note that this browser started a login, then go to the provider."""
    # Noted before the redirect is sent, so even a provider that answers at once finds it.
    note(store, identity, login_started(datetime.now(UTC)))
    try:
        st.login()
    except StreamlitAuthError as exc:  # an [auth] section with a key missing, no Authlib, ...
        note(store, identity, None)  # no login started: nothing to report as refused later
        log.warning("login is misconfigured: %s", exc)
        st.session_state["login_problem"] = (
            "**Login is not set up correctly.** The app's owner should check the `[auth]` "
            "section of its secrets (the server's log says what is missing)."
        )


def login_button(store: ChatStore, identity: Identity, *, primary: bool = False) -> None:
    """Log in, after why the last press did not leave the page (a setup problem), if it did not."""
    if problem := st.session_state.pop("login_problem", None):
        st.error(problem, icon=":material/settings_alert:")
    st.button(
        "Log in",
        icon=":material/login:",
        key="login",
        type="primary" if primary else "secondary",
        on_click=start_login,
        args=(store, identity),
    )


def sidebar_account(store: ChatStore, identity: Identity) -> None:
    """Who is logged in, with Log out; Log in when the owner configured a login."""
    if identity.kind == "user":
        row = st.container(horizontal=True, vertical_alignment="center")
        row.caption(f":material/account_circle: {user_markdown(identity.label or '')}")
        row.button("Log out", icon=":material/logout:", key="logout", on_click=st.logout)
    elif auth_configured():
        login_button(store, identity)


def arrived_by_login(store: ChatStore, identity: Identity) -> str | None:
    """``logged_in`` or ``denied`` when this session is a login's return, read once per session."""
    if "login_outcome" not in st.session_state:
        outcome = None
        try:
            started = store.get_pref(identity.browser, LOGIN_STARTED_PREF)
            if started is not None:  # read once: a later session is no login's return
                store.set_pref(identity.browser, LOGIN_STARTED_PREF, None)
            outcome = login_outcome(
                started, now=datetime.now(UTC), logged_in=identity.kind == "user"
            )
        except ChatError:
            log.warning("could not read the note of a login", exc_info=True)
        st.session_state["login_outcome"] = outcome
    return st.session_state["login_outcome"]


def anonymous_behind_login() -> bool:
    """A visitor not logged in while ``CHAT_REQUIRE_LOGIN`` is on (unreadable settings: yes)."""
    if st.user.to_dict().get("is_logged_in") is True:  # no such key without [auth]
        return False
    try:
        return load_settings().require_login
    except ChatError:  # the chat page says what is wrong with the settings
        return True


def login_gate(settings: Settings, store: ChatStore, identity: Identity) -> bool:
    """True when this visitor may use the app; else shows only Log in (or the owner's error)."""
    verdict = gate(
        require_login=settings.require_login,
        auth_configured=auth_configured(),
        logged_in=identity.kind == "user",
    )
    if verdict == "open":
        return True
    st.title("Streaming chat")
    if verdict == "unconfigured":
        st.error(unconfigured_text(), icon=":material/settings_alert:")
        return False
    if arrived_by_login(store, identity) == "denied":
        st.warning(denied_text(), icon=":material/no_accounts:")
    st.write(gate_text())
    login_button(store, identity, primary=True)
    keep_browser_token()  # the login's note is kept under this browser's identity
    return False


def _move_chats(store: ChatStore, identity: Identity) -> None:
    try:
        moved = store.reassign_owner(identity.browser, identity.owner)
    except ChatError as exc:  # the offer stays: nothing was moved
        st.session_state["move_problem"] = f"The chats were not moved: {exc}"
        return
    st.session_state["move_offer"] = 0
    st.session_state["login_notice"] = moved_text(moved)


def _keep_chats(store: ChatStore, identity: Identity, count: int) -> None:
    try:
        chats = store.list_conversations(identity.browser)
        if chats:
            store.set_pref(identity.browser, KEPT_PREF, max(c.updated_at for c in chats))
    except ChatError:  # not remembered: the offer comes back at the next login
        log.warning("could not remember keeping the browser's chats", exc_info=True)
    st.session_state["move_offer"] = 0
    st.session_state["login_notice"] = kept_text(count)


def login_notices(store: ChatStore, identity: Identity) -> None:
    """After a refused login, say so; logged in, offer this browser's chats to the account."""
    if arrived_by_login(store, identity) == "denied":
        st.warning(denied_text(), icon=":material/no_accounts:")
    if notice := st.session_state.pop("login_notice", None):
        st.success(notice, icon=":material/check_circle:")
    if problem := st.session_state.pop("move_problem", None):
        st.error(problem, icon=":material/error:")
    if identity.kind != "user" or identity.owner != identity.person:  # shared history: no move
        return
    if "move_offer" not in st.session_state:  # one look per session, not per rerun
        try:
            count = chats_to_offer(
                store.list_conversations(identity.browser),
                store.get_pref(identity.browser, KEPT_PREF),
            )
        except ChatError:
            log.warning("could not list this browser's chats", exc_info=True)
            count = 0
        st.session_state["move_offer"] = count
    count = st.session_state["move_offer"]
    if not count:
        return
    with st.container(border=True, key="move-browser-chats"):
        st.markdown(move_offer_text(count))
        row = st.container(horizontal=True)
        what = "chat" if count == 1 else f"{count} chats"
        row.button(
            f"Move the {what} into my account",
            key="move-chats",
            type="primary",
            on_click=_move_chats,
            args=(store, identity),
        )
        row.button(
            "Keep with this browser",
            key="keep-chats",
            on_click=_keep_chats,
            args=(store, identity, count),
        )
