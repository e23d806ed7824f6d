"""The edges of logging in: requiring it, a login that came back refused, this browser's chats.

Streamlit's login (``st.login``) sends the whole tab to the provider and back, so the
session that asked is gone when the answer comes. A refused login comes back to
Streamlit's own ``/oauth2callback``, which logs the provider's error and redirects to the
app's home page with nothing in the URL (``streamlit/web/server/starlette/
starlette_auth_routes.py``, ``_auth_callback``). The page therefore notes, under the
browser's own identity (its cookie survives the round trip; session state does not),
when a login started; the next session of that browser reads the note back once:
logged in means the login worked, not logged in means it was refused or abandoned.

Chats made before logging in belong to the browser's identity. At login they are offered
to the account: moved (they follow the user to every browser) or kept with the browser
(they show again here after logging out). Keeping them is remembered until the browser
makes a newer chat, so the offer is not repeated at every login.

Everything here is pure; the page reads and writes the two preferences through the store.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Literal

from chat_core.storage.records import TIME_FORMAT, ConversationSummary, time_text

__all__ = [
    "KEPT_PREF",
    "LOGIN_STARTED_PREF",
    "Gate",
    "LoginOutcome",
    "chats_to_offer",
    "denied_text",
    "gate",
    "gate_text",
    "kept_text",
    "login_outcome",
    "login_started",
    "move_offer_text",
    "moved_text",
    "unconfigured_text",
]

# Preferences of the browser's identity (``browser:<token>``), in the store's prefs table.
LOGIN_STARTED_PREF = "login.started_at"  # when Log in was pressed, in the stored time format
KEPT_PREF = "login.kept_through"  # the newest browser chat when "keep them here" was chosen
# A provider round trip takes seconds; a note older than this is a login given up long ago.
LOGIN_WINDOW = timedelta(minutes=15)

Gate = Literal["open", "login", "unconfigured"]
LoginOutcome = Literal["logged_in", "denied"]


def gate(*, require_login: bool, auth_configured: bool, logged_in: bool) -> Gate:
    """Whether this visitor may use the app: ``open``, ``login`` first, or ``unconfigured``.

    Login required without Streamlit's login set up closes the app (fail closed) with a
    message for the owner: nobody could ever log in.
    """
    if not require_login or logged_in:
        return "open"
    return "login" if auth_configured else "unconfigured"


def login_started(now: datetime) -> str:
    """The value of ``LOGIN_STARTED_PREF`` for a login that starts at ``now`` (aware)."""
    return time_text(now, "now")


def login_outcome(started_at: object, *, now: datetime, logged_in: bool) -> LoginOutcome | None:
    """What became of a login this browser started at ``started_at`` (None: no recent one)."""
    if not isinstance(started_at, str):
        return None
    try:
        started = datetime.strptime(started_at, TIME_FORMAT).replace(tzinfo=now.tzinfo)
    except ValueError:
        return None
    if not timedelta(0) <= now - started <= LOGIN_WINDOW:
        return None
    return "logged_in" if logged_in else "denied"


def chats_to_offer(browser_chats: Sequence[ConversationSummary], kept_through: object) -> int:
    """How many of the browser's chats to offer to the account (0: no offer).

    All of them, unless the person chose to keep them here and none is newer since.
    """
    if not browser_chats:
        return 0
    newest = max(chat.updated_at for chat in browser_chats)
    if isinstance(kept_through, str) and newest <= kept_through:
        return 0
    return len(browser_chats)


def _chats(count: int) -> str:
    return "1 chat" if count == 1 else f"{count} chats"


def gate_text() -> str:
    """What an anonymous visitor reads when the owner requires login."""
    return "This app is for signed-in users. Log in to see your chats and ask a question."


def unconfigured_text() -> str:
    """The owner-facing error for ``CHAT_REQUIRE_LOGIN`` without Streamlit's login."""
    return (
        "**Login is required but not set up.** `CHAT_REQUIRE_LOGIN` is on, but the app's "
        "secrets have no `[auth]` section, so nobody can log in. Add one to "
        "`.streamlit/secrets.toml` (see `.streamlit/secrets.toml.example`), or turn "
        "`CHAT_REQUIRE_LOGIN` off."
    )


def denied_text() -> str:
    """After a login the provider refused (or the person cancelled)."""
    return (
        "**You are not logged in.** The sign-in provider refused the login or it was "
        "cancelled. Try again with Log in; until then, chats here stay with this browser."
    )


def move_offer_text(count: int) -> str:
    """The offer made at login when this browser has chats from before it."""
    return (
        f"This browser has {_chats(count)} from before you logged in. Move them into your "
        "account to see them in every browser where you log in, or keep them with this "
        "browser: they show here again after you log out."
    )


def moved_text(count: int) -> str:
    """After the browser's chats were moved into the account."""
    return f"Moved {_chats(count)} from this browser into your account."


def kept_text(count: int) -> str:
    """After the person chose to keep the browser's chats where they are."""
    which, them = ("The chat stays", "it") if count == 1 else (f"The {count} chats stay", "them")
    return (
        f"{which} with this browser, not your account: log out to see {them} again. Anyone "
        f"who uses this browser without logging in sees {them} too."
    )
