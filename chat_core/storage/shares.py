"""Share-link rows: create, open, list, update, revoke; the token is shown once, its hash kept.

``open_share`` answers None alike for malformed, unknown, revoked and expired
tokens (one indexed lookup by hash either way). A link is named to its owner
by ``share_id`` (the stored hash: it opens nothing, ``open_share`` hashes what
it is given). Revoking erases the snapshot too: a dead link keeps no copy of
the chat, only the record that it existed. ``now`` is passed in so tests move
the clock.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, or_, select, update

from chat_core.storage.db import Database
from chat_core.storage.records import check_owner, time_text
from chat_core.storage.schema import conversations, shares
from chat_core.storage.share_tokens import expires_at, hash_token, is_live, new_token

__all__ = [
    "ShareLink",
    "create_share",
    "list_shares",
    "open_share",
    "revoke_chat_shares",
    "revoke_share",
    "revoke_share_id",
    "share_snapshot",
    "update_share",
]

_ERASED = "{}"  # a revoked link's snapshot: the copy goes with the link


@dataclass(frozen=True, slots=True)
class ShareLink:
    """A live link as its owner's lists show it (never the token: only its hash is kept)."""

    share_id: str
    conversation_id: str
    title: str | None  # the chat's title now; None when the chat is gone
    created_at: str
    updated_at: str  # "Shared on": the last update
    expires_at: str | None  # None: never


def create_share(
    db: Database,
    owner: str,
    conversation_id: str,
    snapshot: dict[str, Any],
    now: datetime,
    expiry: str,
) -> str:
    """Store a snapshot and return the new link's token (never stored itself)."""
    token = new_token()
    end = expires_at(now, expiry)
    with db.write() as conn:
        conn.execute(
            insert(shares).values(
                token_hash=hash_token(token),
                owner=check_owner(owner),
                conversation_id=conversation_id,
                snapshot=json.dumps(snapshot, ensure_ascii=False),
                created_at=time_text(now),
                updated_at=time_text(now),
                expires_at=None if end is None else time_text(end),
            )
        )
    return token


def open_share(db: Database, token: str, now: datetime) -> dict[str, Any] | None:
    """The snapshot behind a live link, or None for any token that does not open one."""
    with db.read() as conn:
        row = conn.execute(
            select(shares.c.snapshot, shares.c.expires_at, shares.c.revoked_at).where(
                shares.c.token_hash == hash_token(token)
            )
        ).first()
    if row is None:
        return None
    end = None if row.expires_at is None else datetime.fromisoformat(row.expires_at)
    if not is_live(now, end, revoked=row.revoked_at is not None):
        return None
    snapshot: dict[str, Any] = json.loads(row.snapshot)
    return snapshot


def _live(owner: str, now: datetime) -> Any:
    """The owner's links that still open at ``now`` (times compare as stored text)."""
    return (
        (shares.c.owner == check_owner(owner))
        & shares.c.revoked_at.is_(None)
        & or_(shares.c.expires_at.is_(None), shares.c.expires_at > time_text(now))
    )


def list_shares(
    db: Database, owner: str, now: datetime, conversation_id: str | None = None
) -> list[ShareLink]:
    """The owner's live links (of one chat, when given), newest first."""
    query = (
        select(
            shares.c.token_hash,
            shares.c.conversation_id,
            conversations.c.title,
            shares.c.created_at,
            shares.c.updated_at,
            shares.c.expires_at,
        )
        .select_from(
            shares.outerjoin(
                conversations,
                (conversations.c.id == shares.c.conversation_id)
                & (conversations.c.owner == shares.c.owner),
            )
        )
        .where(_live(owner, now))
        .order_by(shares.c.created_at.desc(), shares.c.token_hash)
        .limit(200)
    )
    if conversation_id is not None:
        query = query.where(shares.c.conversation_id == conversation_id)
    with db.read() as conn:
        return [ShareLink(*row) for row in conn.execute(query)]


def share_snapshot(db: Database, owner: str, share_id: str, now: datetime) -> dict[str, Any] | None:
    """The stored snapshot of the owner's live link ``share_id`` (to rebuild it alike)."""
    with db.read() as conn:
        raw = conn.execute(
            select(shares.c.snapshot).where(_live(owner, now), shares.c.token_hash == share_id)
        ).scalar_one_or_none()
    if raw is None:
        return None
    snapshot: dict[str, Any] = json.loads(raw)
    return snapshot


def update_share(
    db: Database, owner: str, share_id: str, snapshot: dict[str, Any], now: datetime
) -> bool:
    """A new snapshot behind the same link; False when it is not the owner's or is dead."""
    with db.write() as conn:
        done = conn.execute(
            update(shares)
            .where(_live(owner, now), shares.c.token_hash == share_id)
            .values(snapshot=json.dumps(snapshot, ensure_ascii=False), updated_at=time_text(now))
        )
    return bool(done.rowcount)


def revoke_share(db: Database, owner: str, token: str, now: datetime) -> bool:
    """Revoke the owner's link by its token; False when it is not theirs or already dead."""
    return revoke_share_id(db, owner, hash_token(token), now)


def revoke_share_id(db: Database, owner: str, share_id: str, now: datetime) -> bool:
    """Revoke the owner's link ``share_id`` (from their lists); False when not theirs or dead."""
    with db.write() as conn:
        done = conn.execute(
            update(shares)
            .where(shares.c.token_hash == share_id, shares.c.owner == owner)
            .where(shares.c.revoked_at.is_(None))
            .values(revoked_at=time_text(now), snapshot=_ERASED)
        )
    return bool(done.rowcount)


def revoke_chat_shares(db: Database, owner: str, conversation_id: str, now: datetime) -> int:
    """Deleting a chat kills every link to it: returns how many were revoked."""
    with db.write() as conn:
        return revoke_in(conn, owner, conversation_id, time_text(now))


def revoke_in(conn: Connection, owner: str, conversation_id: str, now: str) -> int:
    """``revoke_chat_shares`` inside the caller's transaction (a chat's delete)."""
    done = conn.execute(
        update(shares)
        .where(shares.c.conversation_id == conversation_id, shares.c.owner == owner)
        .where(shares.c.revoked_at.is_(None))
        .values(revoked_at=now, snapshot=_ERASED)
    )
    return int(done.rowcount)
