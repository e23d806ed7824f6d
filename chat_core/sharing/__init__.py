"""Sharing a chat: a read-only link to a frozen snapshot, revocable and expiring.

    snapshot.py   what a link shows (the active path; reasoning, system prompt,
                  attachments only when ticked) and how a stored one reads back (pure)
    links.py      make, open, update, list, revoke links; continue a copy

The tokens and the ``shares`` table are storage's (``storage/share_tokens.py``,
``storage/shares.py``). A token is never an identity: it opens one snapshot and
nothing else (docs/security.md).
"""

from __future__ import annotations

from chat_core.sharing.links import (
    NOT_AVAILABLE,
    chat_links,
    continue_shared,
    link_caption,
    link_id,
    link_misses,
    open_link,
    owner_links,
    revoke_link,
    share_chat,
    share_url,
    sharing_refusal,
    update_link,
)
from chat_core.sharing.snapshot import (
    SharedChat,
    SharedMessage,
    ShareOptions,
    build_snapshot,
    read_snapshot,
    shared_on,
    stored_messages,
)
from chat_core.storage.share_tokens import EXPIRY_CHOICES, SHARING_MODES
from chat_core.storage.shares import ShareLink

__all__ = [
    "EXPIRY_CHOICES",
    "NOT_AVAILABLE",
    "SHARING_MODES",
    "ShareLink",
    "ShareOptions",
    "SharedChat",
    "SharedMessage",
    "build_snapshot",
    "chat_links",
    "continue_shared",
    "link_caption",
    "link_id",
    "link_misses",
    "open_link",
    "owner_links",
    "read_snapshot",
    "revoke_link",
    "share_chat",
    "share_url",
    "shared_on",
    "sharing_refusal",
    "stored_messages",
    "update_link",
]
