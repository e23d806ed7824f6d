"""Share links over a ``ChatStore``: make, open, update, list, revoke, and continue a copy.

Every owner-side call is scoped to the owner, like the store's own; a link is named to
its owner by ``share_id`` (the token's hash, which opens nothing). The visitor's side is
``open_link``: any token that does not open a live snapshot (malformed, truncated,
guessed, unknown, revoked, expired, erased) answers None the same way, and the log gets a
count, never the token. ``now`` is passed in so tests move the clock.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime

from chat_core.errors import NotFoundError, ValidationError
from chat_core.sharing.snapshot import (
    SharedChat,
    ShareOptions,
    build_snapshot,
    continued_messages,
    read_snapshot,
)
from chat_core.storage.records import TIME_FORMAT, ConversationSummary, time_text
from chat_core.storage.share_tokens import hash_token, sharing_mode
from chat_core.storage.shares import (
    ShareLink,
    create_share,
    list_shares,
    open_share,
    revoke_share_id,
    share_snapshot,
    update_share,
)
from chat_core.storage.store import ChatStore

__all__ = [
    "NOT_AVAILABLE",
    "chat_links",
    "continue_shared",
    "link_caption",
    "link_id",
    "link_misses",
    "open_link",
    "owner_links",
    "revoke_link",
    "share_chat",
    "share_url",
    "sharing_refusal",
    "update_link",
]

log = logging.getLogger("chat_core.sharing")

NOT_AVAILABLE = "This shared chat is not available. The link may have expired or been revoked."
SHARED_PAGE = "shared"  # the hidden page's url_path; the token rides in ``?t=``


class _Misses:
    """How many opens found nothing: logged at 1, 2, 4, 8, ... so a flood costs a few lines."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.count = 0

    def add(self) -> None:
        with self._lock:
            self.count += 1
            count = self.count
        if count & (count - 1) == 0:  # a power of two
            log.info("share links not available so far: %d", count)


_misses = _Misses()


def link_misses() -> int:
    """Opens of a link that showed "not available", since the process started."""
    return _misses.count


def sharing_refusal(mode: str | None, *, logged_in: bool) -> str | None:
    """Why this visitor may not make links (``CHAT_SHARING``), or None when they may."""
    chosen = sharing_mode(mode)
    if chosen == "off":
        return "Sharing is turned off on this app."
    if chosen == "login" and not logged_in:
        return "Log in to share a chat."
    return None


def _day(stamp: str) -> str:
    moment = datetime.strptime(stamp, TIME_FORMAT)
    return f"{moment.day} {moment:%b %Y}"


def link_caption(link: ShareLink) -> str:
    """How the owner's lists describe a link: when it was shared, until when it opens."""
    shared = f"shared {_day(link.updated_at)}"
    until = "never expires" if link.expires_at is None else f"expires {_day(link.expires_at)}"
    return f"{shared} · {until}"


def link_id(token: str) -> str:
    """The ``share_id`` of a link just made (its token's hash), to match it in the lists."""
    return hash_token(token)


def share_url(app_url: str | None, token: str) -> str:
    """The link to give out: the shared page of this app, the token in the query."""
    base = (app_url or "").rstrip("/")
    return f"{base}/{SHARED_PAGE}?t={token}" if base else f"{SHARED_PAGE}?t={token}"


def _snapshot(
    store: ChatStore, owner: str, conversation_id: str, options: ShareOptions, app: str, now: str
) -> dict[str, object]:
    conversation = store.get_conversation(owner, conversation_id)
    if conversation is None:
        raise NotFoundError("conversation_id", "no such conversation")
    if not conversation.messages:
        raise ValidationError("conversation_id", "there is nothing to share in this chat yet")
    return build_snapshot(conversation, options, app=app, shared_at=now)


def share_chat(
    store: ChatStore,
    owner: str,
    conversation_id: str,
    options: ShareOptions,
    *,
    expiry: str,
    app: str,
    now: datetime,
) -> str:
    """A new link to a snapshot of the chat's active path; returns its token (shown once)."""
    snapshot = _snapshot(store, owner, conversation_id, options, app, time_text(now))
    return create_share(store.db, owner, conversation_id, snapshot, now, expiry)


def update_link(store: ChatStore, owner: str, link: ShareLink, *, app: str, now: datetime) -> bool:
    """A new snapshot of the chat behind the same link, with the ticks it was made with."""
    old = share_snapshot(store.db, owner, link.share_id, now)
    if old is None:
        return False
    options = ShareOptions.from_dict(old.get("options"))
    snapshot = _snapshot(store, owner, link.conversation_id, options, app, time_text(now))
    return update_share(store.db, owner, link.share_id, snapshot, now)


def revoke_link(store: ChatStore, owner: str, share_id: str, *, now: datetime) -> bool:
    """Revoke one of the owner's links (its snapshot is erased); False when already dead."""
    return revoke_share_id(store.db, owner, share_id, now)


def chat_links(
    store: ChatStore, owner: str, conversation_id: str, *, now: datetime
) -> list[ShareLink]:
    """The live links to one of the owner's chats, newest first."""
    return list_shares(store.db, owner, now, conversation_id)


def owner_links(store: ChatStore, owner: str, *, now: datetime) -> list[ShareLink]:
    """Every live link of the owner's, newest first (the "Shared links" list)."""
    return list_shares(store.db, owner, now)


def open_link(store: ChatStore, token: object, *, now: datetime) -> SharedChat | None:
    """The snapshot a visitor's token opens, or None (one answer for every failure)."""
    text = token if isinstance(token, str) else ""
    # Bounded: a query string can be long, and the hash of 10 KB costs the same lookup.
    chat = read_snapshot(open_share(store.db, text[:256], now))
    if chat is None:
        _misses.add()
    return chat


def continue_shared(store: ChatStore, owner: str, chat: SharedChat) -> ConversationSummary:
    """A copy of the shared chat among the visitor's own chats (theirs from now on)."""
    return store.import_conversation(owner, chat.title, continued_messages(chat))
