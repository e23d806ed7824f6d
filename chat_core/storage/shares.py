"""Share-link rows: create, open, revoke; the token is shown once and only its hash is kept.

``open_share`` answers None alike for malformed, unknown, revoked and expired
tokens (one indexed lookup by hash either way). ``now`` is passed in so tests
move the clock.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update

from chat_core.storage.db import Database
from chat_core.storage.records import time_text
from chat_core.storage.schema import shares
from chat_core.storage.share_tokens import expires_at, hash_token, is_live, new_token

__all__ = ["create_share", "open_share", "revoke_chat_shares", "revoke_share"]


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
                owner=owner,
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


def revoke_share(db: Database, owner: str, token: str, now: datetime) -> bool:
    """Revoke the owner's link; False when it is not theirs or already dead."""
    with db.write() as conn:
        done = conn.execute(
            update(shares)
            .where(shares.c.token_hash == hash_token(token), shares.c.owner == owner)
            .where(shares.c.revoked_at.is_(None))
            .values(revoked_at=time_text(now))
        )
    return bool(done.rowcount)


def revoke_chat_shares(db: Database, owner: str, conversation_id: str, now: datetime) -> int:
    """Deleting a chat kills every link to it: returns how many were revoked."""
    with db.write() as conn:
        done = conn.execute(
            update(shares)
            .where(shares.c.conversation_id == conversation_id, shares.c.owner == owner)
            .where(shares.c.revoked_at.is_(None))
            .values(revoked_at=time_text(now))
        )
    return int(done.rowcount)
