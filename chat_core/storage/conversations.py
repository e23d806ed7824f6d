"""Conversations as a whole, each call scoped to an owner: create, list, read, rename, delete.

``ChatStore`` inherits these methods (``store.py`` has the ones on single
messages). Reading a conversation reads its messages in order, a streaming one
quiet for ``stale_after_s`` shown as interrupted; importing one writes it and
all its messages in one transaction, so a bad message leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, func, insert, select, update

from chat_core.errors import LimitError, NotFoundError
from chat_core.storage.base import StoreBase
from chat_core.storage.records import (
    DEFAULT_TITLE,
    MAX_MESSAGES_PER_CONVERSATION,
    ConversationSummary,
    NewMessage,
    StoredConversation,
    check_owner,
    check_time,
    check_title,
    new_conversation_id,
    title_from_prompt,
)
from chat_core.storage.schema import conversations, messages


class Conversations(StoreBase):
    """Owner-scoped conversation methods over ``StoreBase`` (mixed into ``ChatStore``)."""

    # -- conversations -------------------------------------------------------------------------
    def create_conversation(self, owner: str, title: str | None = None) -> ConversationSummary:
        """A new, empty conversation; untitled ones take their first prompt as title."""
        clean = None if title is None else check_title(title)
        owner = check_owner(owner)
        now = self._now()
        conversation_id = new_conversation_id()
        row = dict(id=conversation_id, owner=owner, title=clean, created_at=now, updated_at=now)
        with self.db.write() as conn:
            conn.execute(insert(conversations).values(**row))
        return ConversationSummary(conversation_id, clean or DEFAULT_TITLE, now, now, 0)

    def list_conversations(self, owner: str, limit: int = 500) -> list[ConversationSummary]:
        """The owner's conversations, most recently updated first."""
        count = (
            select(func.count())
            .where(messages.c.conversation_id == conversations.c.id)
            .scalar_subquery()
        )
        query = (
            select(conversations, count.label("n"))
            .where(conversations.c.owner == check_owner(owner))
            .order_by(conversations.c.updated_at.desc(), conversations.c.id.desc())
            .limit(limit)
        )
        with self.db.read() as conn:
            rows = conn.execute(query).mappings().all()
        return [
            ConversationSummary(
                r["id"], r["title"] or DEFAULT_TITLE, r["created_at"], r["updated_at"], r["n"]
            )
            for r in rows
        ]

    def get_conversation(self, owner: str, conversation_id: str) -> StoredConversation | None:
        """A conversation and its messages, or None when the owner has no such conversation."""
        stale_before = self._stale_before()
        with self.db.read() as conn:
            try:
                conv = self._conversation(conn, owner, conversation_id)
            except NotFoundError:
                return None
            rows = conn.execute(
                select(messages)
                .where(messages.c.conversation_id == conv["id"])
                .order_by(messages.c.position)
            ).mappings()
            found = tuple(self._record(r, stale_before) for r in rows)
        title = conv["title"] or DEFAULT_TITLE
        return StoredConversation(conv["id"], title, conv["created_at"], conv["updated_at"], found)

    def rename(self, owner: str, conversation_id: str, title: str) -> None:
        """Set a conversation's title (not counted as activity: the list order stays)."""
        clean = check_title(title)
        with self.db.write() as conn:
            conv = self._conversation(conn, owner, conversation_id, lock=True)
            conn.execute(
                update(conversations).where(conversations.c.id == conv["id"]).values(title=clean)
            )

    def delete(self, owner: str, conversation_id: str) -> bool:
        """Delete a conversation and its messages; False when the owner had no such one."""
        with self.db.write() as conn:
            try:
                conv = self._conversation(conn, owner, conversation_id, lock=True)
            except NotFoundError:
                return False
            conn.execute(delete(conversations).where(conversations.c.id == conv["id"]))
        return True

    def reassign_owner(self, old_owner: str, new_owner: str) -> int:
        """Hand every conversation of ``old_owner`` to ``new_owner`` (e.g. legacy -> shared)."""
        old, new = check_owner(old_owner, "old_owner"), check_owner(new_owner, "new_owner")
        with self.db.write() as conn:
            done = conn.execute(
                update(conversations).where(conversations.c.owner == old).values(owner=new)
            )
        return done.rowcount

    def import_conversation(
        self,
        owner: str,
        title: str | None,
        new_messages: Sequence[NewMessage],
        *,
        created_at: str | None = None,
        updated_at: str | None = None,
    ) -> ConversationSummary:
        """A new conversation with all its messages, in one transaction (transfer.py's import)."""
        clean = None if title is None else check_title(title)
        owner = check_owner(owner)
        if len(new_messages) > MAX_MESSAGES_PER_CONVERSATION:
            raise LimitError("messages", f"more than {MAX_MESSAGES_PER_CONVERSATION} messages")
        now = self._now()
        created = check_time(created_at, "created_at") if created_at is not None else now
        updated = check_time(updated_at, "updated_at") if updated_at is not None else now
        if clean is None:
            first = next((m.content for m in new_messages if m.role == "user"), None)
            clean = title_from_prompt(first) if isinstance(first, str) else DEFAULT_TITLE
        conversation_id = new_conversation_id()
        row = dict(id=conversation_id, owner=owner, title=clean, created_at=created)
        with self.db.write() as conn:
            conn.execute(insert(conversations).values(**row, updated_at=updated))
            # validated row by row inside the transaction: a bad message rolls back the others
            for i, message in enumerate(new_messages):
                self._insert(conn, conversation_id, message, created, f"messages[{i}].")
        return ConversationSummary(conversation_id, clean, created, updated, len(new_messages))
