"""What every ChatStore method stands on: the database, the clock, and owner-scoped lookups.

Opening a store connects, migrates (``schema.py``) and recovers stale answers.
Every lookup goes through the owner: a conversation or message of another owner
raises the same ``NotFoundError`` as one that never existed.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Self

from sqlalchemy import Connection, RowMapping, delete, func, insert, select, update

from chat_core.errors import LimitError, NotFoundError, StoreError, ValidationError
from chat_core.storage.attachments import insert_attachments
from chat_core.storage.db import Database, sqlite_url
from chat_core.storage.records import (
    MAX_CONVERSATION_ID_CHARS,
    MAX_MESSAGES_PER_CONVERSATION,
    TIME_FORMAT,
    NewMessage,
    StoredMessage,
    check_content,
    check_feedback,
    check_flat_object,
    check_model,
    check_owner,
    check_role,
    check_status,
    check_time,
    dumps_flat,
    message_from_row,
    now_text,
)
from chat_core.storage.schema import conversations, messages, migrate

STALE_AFTER_S = 120.0  # a streaming row quiet this long was left by a dead process


class StoreBase:
    """The database, a strictly increasing clock, recovery and the owner-scoped lookups."""

    def __init__(
        self,
        url: str | Path,
        *,
        busy_timeout_s: float = 10.0,
        recover: bool = True,
        stale_after_s: float = STALE_AFTER_S,
    ) -> None:
        """Open the database at ``url`` (a SQLAlchemy URL, or a Path to a SQLite file)."""
        self.db = Database(
            sqlite_url(url) if isinstance(url, Path) else url, busy_timeout_s=busy_timeout_s
        )
        self.stale_after_s = stale_after_s
        self._time_lock = threading.Lock()
        self._last_time = ""
        try:
            with self.db.write() as conn:
                self.migrated_from = migrate(conn)
            self.interrupted_on_open = self.recover_stale() if recover else 0
        except StoreError as exc:
            self.db.close()
            raise StoreError(
                f"{self.db.url.database or 'the database'} is not usable: {exc}"
            ) from exc
        except BaseException:
            self.db.close()
            raise

    def close(self) -> None:
        """Close the database connections; the store is unusable after."""
        self.db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _now(self) -> str:
        """The current time, strictly after the last one handed out, so ordering is total."""
        with self._time_lock:
            now = now_text()
            if now <= self._last_time:
                last = datetime.strptime(self._last_time, TIME_FORMAT)
                now = (last + timedelta(microseconds=1)).strftime(TIME_FORMAT)
            self._last_time = now
            return now

    def _stale_before(self) -> str:
        cutoff = datetime.now(UTC) - timedelta(seconds=self.stale_after_s)
        return cutoff.strftime(TIME_FORMAT)

    def recover_stale(self) -> int:
        """Mark streaming rows quiet for ``stale_after_s`` interrupted; returns how many."""
        with self.db.write() as conn:
            done = conn.execute(
                update(messages)
                .where(messages.c.status == "streaming")
                .where(messages.c.updated_at < self._stale_before())
                .values(status="interrupted")
            )
            return done.rowcount

    # -- lookups, always through the owner -----------------------------------------------------
    @staticmethod
    def _conversation(
        conn: Connection, owner: str, conversation_id: object, *, lock: bool = False
    ) -> RowMapping:
        if not isinstance(conversation_id, str):
            raise ValidationError("conversation_id", "a conversation id must be a string")
        query = select(conversations).where(
            conversations.c.id == conversation_id[:MAX_CONVERSATION_ID_CHARS],
            conversations.c.owner == check_owner(owner),
        )
        # the row lock orders concurrent appends on PostgreSQL; SQLite's write lock does it there
        row = conn.execute(query.with_for_update() if lock else query).mappings().first()
        if row is None or len(conversation_id) > MAX_CONVERSATION_ID_CHARS:
            raise NotFoundError("conversation_id", "no such conversation")
        return row

    @staticmethod
    def _message_row(conn: Connection, owner: str, message_id: object) -> RowMapping:
        if isinstance(message_id, bool) or not isinstance(message_id, int):
            raise ValidationError("id", "an id must be an integer")
        row = (
            conn.execute(
                select(messages)
                .join(conversations, conversations.c.id == messages.c.conversation_id)
                .where(messages.c.id == message_id, conversations.c.owner == check_owner(owner))
            )
            .mappings()
            .first()
        )
        if row is None:
            raise NotFoundError("message_id", "no such message")
        return row

    def _record(self, row: RowMapping, stale_before: str | None = None) -> StoredMessage:
        return message_from_row(row, stale_before or self._stale_before())

    def _insert(
        self,
        conn: Connection,
        conversation_id: str,
        new: NewMessage,
        now: str,
        prefix: str,
        parent_id: int | None = None,
    ) -> int:
        """Write one message under ``parent_id`` (the caller checked it is in this chat)."""
        role = check_role(new.role, f"{prefix}role")
        values = {
            "conversation_id": conversation_id,
            "parent_id": parent_id,
            "role": role,
            "content": check_content(role, new.content, f"{prefix}content"),
            "reasoning": check_content("assistant", new.reasoning, f"{prefix}reasoning"),
            "status": check_status(new.status, f"{prefix}status"),
            "model": check_model(new.model, f"{prefix}model"),
            "params": dumps_flat(check_flat_object(new.params, f"{prefix}params")),
            "metrics": dumps_flat(check_flat_object(new.metrics, f"{prefix}metrics")),
            "feedback": check_feedback(new.feedback, f"{prefix}feedback"),
            "created_at": now
            if new.created_at is None
            else check_time(new.created_at, f"{prefix}created_at"),
            "updated_at": now,
        }
        count, next_position = conn.execute(
            select(func.count(), func.coalesce(func.max(messages.c.position) + 1, 0)).where(
                messages.c.conversation_id == conversation_id
            )
        ).one()
        if count >= MAX_MESSAGES_PER_CONVERSATION:
            raise LimitError("messages", f"more than {MAX_MESSAGES_PER_CONVERSATION} messages")
        query = insert(messages).values(**values, position=next_position)
        message_id = int(conn.execute(query.returning(messages.c.id)).scalar_one())
        insert_attachments(conn, conversation_id, message_id, new.attachments)
        return message_id

    @staticmethod
    def _delete_after(conn: Connection, conversation_id: str, position: int) -> int:
        where = (messages.c.conversation_id == conversation_id) & (messages.c.position > position)
        return conn.execute(delete(messages).where(where)).rowcount

    @staticmethod
    def _touch(conn: Connection, conversation_id: str, now: str) -> None:
        conn.execute(
            update(conversations)
            .where(conversations.c.id == conversation_id)
            .values(updated_at=now)
        )
