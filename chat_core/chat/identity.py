"""Whose chats these are: the logged-in user, else this browser's private identity.

Each browser keeps a random token in a cookie. The page reads it back from the
request that opened the session; a browser without one (or with a damaged one)
gets a fresh token for the session, which the page then stores in the cookie,
so even the very first run shows an empty chat list, never someone else's.
The cookie, not the URL, carries the identity: a shared ``?c=`` link hands over
nothing (another owner's id behaves as unknown).

With Streamlit's login configured the identity is the logged-in user (the
issuer and subject of their OpenID Connect token), so chats follow them across
browsers. ``CHAT_SHARED_HISTORY=1`` puts every chat in one shared list, on
purpose; the visitor budget still counts per person.

This module is pure: the page hands it what Streamlit knows (``st.user``, the
cookie) and writes the cookie itself.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from chat_core.storage.records import MAX_OWNER_CHARS, SHARED_OWNER

COOKIE_NAME = "chat_identity"
# Browsers cap a cookie's lifetime at 400 days (RFC 6265bis, "Max-Age"); the page renews it.
COOKIE_MAX_AGE_S = 400 * 24 * 3600
TOKEN_BYTES = 24  # 192 random bits, 32 URL-safe characters
_TOKEN = re.compile(r"[A-Za-z0-9_-]{32}")

IdentityKind = Literal["user", "browser"]


def new_browser_token() -> str:
    """A fresh, unguessable browser token (what the cookie holds)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def browser_token(value: object) -> str | None:
    """The cookie's token when it is well formed, else None (the page then issues a new one)."""
    if isinstance(value, str) and _TOKEN.fullmatch(value):
        return value
    return None


def user_identity(user: Mapping[str, Any]) -> str | None:
    """``user:...`` for a logged-in ``st.user``, None when nobody is logged in.

    The issuer and subject identify an OpenID Connect account for good (an email
    can change hands); the email is the fallback for a provider that sends no
    subject. Over-long keys are hashed so they fit the store's owner column.
    """
    if user.get("is_logged_in") is not True:
        return None
    subject, issuer, email = (str(user.get(k) or "").strip() for k in ("sub", "iss", "email"))
    if subject:
        key = f"{issuer}|{subject}" if issuer else subject
    elif email:
        key = f"email|{email.lower()}"
    else:
        return None
    owner = f"user:{key}"
    if len(owner) > MAX_OWNER_CHARS:
        owner = "user:sha256:" + hashlib.sha256(key.encode()).hexdigest()
    return owner


def user_label(user: Mapping[str, Any]) -> str:
    """What the sidebar shows for a logged-in user: name, else email, else a plain word."""
    for key in ("name", "email", "preferred_username"):
        value = str(user.get(key) or "").strip()
        if value:
            return value[:200]
    return "signed-in user"


@dataclass(frozen=True)
class Identity:
    """Who is here: ``owner`` scopes the chats, ``person`` the visitor budget."""

    owner: str
    person: str
    kind: IdentityKind
    label: str | None = None  # the logged-in user's name, for the sidebar
    # This browser's own identity, logged in or not: its chats are offered to the account at
    # login, and a login's outcome is noted under it (``chat.login``).
    browser: str = ""


def choose_identity(
    *, user: Mapping[str, Any], browser: str, shared_history: bool = False
) -> Identity:
    """The logged-in user, else the browser token; one shared owner with shared history."""
    token = browser_token(browser)
    if token is None:
        raise ValueError("browser must be a token from new_browser_token()")
    logged_in = user_identity(user)
    kind: IdentityKind
    if logged_in is not None:
        person, kind, label = logged_in, "user", user_label(user)
    else:
        person, kind, label = f"browser:{token}", "browser", None
    owner = SHARED_OWNER if shared_history else person
    return Identity(owner=owner, person=person, kind=kind, label=label, browser=f"browser:{token}")
