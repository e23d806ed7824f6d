"""The visitor's identity on the page side: Streamlit's login, else this browser's cookie.

Streamlit can read cookies (``st.context.cookies``, those sent when the session
opened) but not set them, so a short script in an ``st.html`` element stores the
browser token in a first-party cookie. Choosing the owner is ``chat_core``'s
(``choose_identity``); this module only talks to Streamlit.
"""

from __future__ import annotations

import json

import streamlit as st

from chat_core import (
    COOKIE_MAX_AGE_S,
    COOKIE_NAME,
    BudgetedBackend,
    ChatSession,
    ChatStore,
    Identity,
    Settings,
    browser_token,
    budget_applies,
    choose_identity,
    new_browser_token,
)

# Sets the cookie unless another tab of this browser stored a token first; then that tab's
# token wins and this tab reloads once to pick it up (its own, unused one is dropped).
_COOKIE_SCRIPT = """<script>
(() => {
  const name = %(name)s, mine = %(token)s, maxAge = %(max_age)d;
  const found = document.cookie.split("; ").find((c) => c.startsWith(name + "="));
  const existing = found ? found.slice(name.length + 1) : "";
  if (existing && existing !== mine && /^[A-Za-z0-9_-]{32}$/.test(existing)) {
    if (!sessionStorage.getItem("chat_identity_reloaded")) {
      sessionStorage.setItem("chat_identity_reloaded", "1");
      window.location.reload();
    }
    return;
  }
  const secure = window.location.protocol === "https:" ? "; Secure" : "";
  document.cookie = name + "=" + mine + "; Max-Age=" + maxAge + "; Path=/; SameSite=Lax" + secure;
})();
</script>"""


def current_identity(settings: Settings) -> Identity:
    """This session's identity; the browser token is fixed when the session starts."""
    token = st.session_state.get("browser_token")
    if token is None:
        # The first visit has no cookie yet: a fresh token, so nobody else's chats show.
        token = browser_token(st.context.cookies.get(COOKIE_NAME)) or new_browser_token()
        st.session_state["browser_token"] = token
    return choose_identity(
        user=st.user.to_dict(), browser=token, shared_history=settings.shared_history
    )


def chat_session(store: ChatStore, identity: Identity) -> ChatSession:
    """The session's chat, always the current owner's (a new one if the owner changed)."""
    session = st.session_state.get("chat")
    if not isinstance(session, ChatSession) or session.owner != identity.owner:
        session = st.session_state["chat"] = ChatSession(store=store, owner=identity.owner)
    return session


def cookie_script(token: str) -> str:
    """The script that stores ``token`` in this browser's identity cookie."""
    return _COOKIE_SCRIPT % {
        "name": json.dumps(COOKIE_NAME),
        "token": json.dumps(token),
        "max_age": COOKIE_MAX_AGE_S,
    }


def keep_browser_token() -> None:
    """Store this session's token in the browser (and renew the cookie's lifetime)."""
    if st.session_state.get("browser_token_kept"):
        return
    st.session_state["browser_token_kept"] = True
    with st.container(key="browser-identity"):
        st.html(cookie_script(st.session_state["browser_token"]), unsafe_allow_javascript=True)


def budgeted(backend, base: Settings, settings: Settings, store: ChatStore, identity: Identity):
    """The back end behind the visitor budget when the owner pays for it, else as it is."""
    budget = base.visitor_budget
    if backend is None or budget is None:
        return backend
    visitor = getattr(settings, "visitor", None)  # what the visitor typed, when kept apart
    if visitor is not None:
        visitor_key, visitor_endpoint = bool(visitor.openai_api_key), bool(visitor.endpoint)
    else:  # typed values override the owner's: a difference is the visitor's own
        visitor_key = settings.openai_api_key != base.openai_api_key
        visitor_endpoint = (settings.openai_base_url, settings.remote_url) != (
            base.openai_base_url,
            base.remote_url,
        )
    if not budget_applies(
        settings.resolved_backend, visitor_key=visitor_key, visitor_endpoint=visitor_endpoint
    ):
        return backend
    return BudgetedBackend(backend, store, identity.person, budget)


def budget_refusal(backend) -> str | None:
    """The budget's message when one more request would be over it, else None."""
    if not isinstance(backend, BudgetedBackend):
        return None
    verdict = backend.check()
    return None if verdict.allowed else verdict.message
