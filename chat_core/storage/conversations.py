"""Conversations as a whole, each call scoped to an owner: create, list, read, rename, delete.

``ChatStore`` inherits these methods (``store.py`` has the ones on single
messages). Reading a conversation reads its messages in order, a streaming one
quiet for ``stale_after_s`` shown as interrupted; importing one writes it and
all its messages in one transaction, so a bad message leaves nothing behind.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from chat_core.errors import LimitError, NotFoundError, ValidationError
from chat_core.storage.branches import Branches
from chat_core.storage.records import (
    DEFAULT_TITLE,
    MAX_MESSAGES_PER_CONVERSATION,
    ConversationSummary,
    NewMessage,
    StoredConversation,
    StoredMessage,
    check_owner,
    check_time,
    check_title,
    new_conversation_id,
    title_from_prompt,
)
from chat_core.storage.schema import conversations, messages
from chat_core.storage.shares import revoke_in
from chat_core.tree import (
    active_path,
    check_tree,
    children_of,
    choose_leaf,
    forks_on,
    ordered_for_insert,
)


class Conversations(Branches):
    """Owner-scoped conversation methods over ``Branches`` (mixed into ``ChatStore``)."""

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

    def get_conversation(
        self, owner: str, conversation_id: str, *, whole_tree: bool = False
    ) -> StoredConversation | None:
        """A conversation's active path with its versions' ids (``whole_tree``: every message
        too, for an export), or None when the owner has no such conversation."""
        stale_before = self._stale_before()
        with self.db.read() as conn:
            try:
                conv = self._conversation(conn, owner, conversation_id)
            except NotFoundError:
                return None
            path = self._path_rows(conn, conv["id"], conv["active_leaf"])
            siblings = self._siblings(conn, conv["id"], path)
            count = conn.execute(
                select(func.count()).where(messages.c.conversation_id == conv["id"])
            ).scalar_one()
            tree: tuple[StoredMessage, ...] = ()
            if whole_tree:
                rows = conn.execute(
                    select(messages)
                    .where(messages.c.conversation_id == conv["id"])
                    .order_by(messages.c.position)
                ).mappings()
                tree = tuple(self._record(r, stale_before) for r in rows)
        return StoredConversation(
            conv["id"],
            conv["title"] or DEFAULT_TITLE,
            conv["created_at"],
            conv["updated_at"],
            tuple(self._record(r, stale_before) for r in path),
            siblings,
            count,
            tree,
        )

    def conversation_stamp(self, owner: str, conversation_id: str) -> tuple[Any, ...] | None:
        """What changes whenever anything shown of the conversation does (title, active leaf,
        a message added, grown, finished, rated or deleted): a rerun re-reads the path only
        when it moved. None when the owner has no such conversation."""
        with self.db.read() as conn:
            try:
                conv = self._conversation(conn, owner, conversation_id)
            except NotFoundError:
                return None
            count, updated = conn.execute(
                select(func.count(), func.max(messages.c.updated_at)).where(
                    messages.c.conversation_id == conv["id"]
                )
            ).one()
        return conv["title"], conv["active_leaf"], count, updated

    def answer_metrics(
        self, owner: str, conversation_id: str
    ) -> list[tuple[str | None, dict[str, Any]]]:
        """(model, metrics) of every answer in every version: what the chat cost."""
        with self.db.read() as conn:
            conv = self._conversation(conn, owner, conversation_id)
            rows = conn.execute(
                select(messages.c.model, messages.c.metrics).where(
                    messages.c.conversation_id == conv["id"], messages.c.role == "assistant"
                )
            )
            return [(model, json.loads(metrics)) for model, metrics in rows]

    def rename(self, owner: str, conversation_id: str, title: str) -> None:
        """Set a conversation's title (not counted as activity: the list order stays)."""
        clean = check_title(title)
        with self.db.write() as conn:
            conv = self._conversation(conn, owner, conversation_id, lock=True)
            conn.execute(
                update(conversations).where(conversations.c.id == conv["id"]).values(title=clean)
            )

    def delete(self, owner: str, conversation_id: str) -> bool:
        """Delete a conversation and its messages, revoking its share links (in the same
        transaction: no shared copy outlives the chat); False when the owner had no such one."""
        with self.db.write() as conn:
            try:
                conv = self._conversation(conn, owner, conversation_id, lock=True)
            except NotFoundError:
                return False
            conn.execute(delete(conversations).where(conversations.c.id == conv["id"]))
            revoke_in(conn, conv["owner"], conv["id"], self._now())
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
        active_leaf: int | None = None,
    ) -> ConversationSummary:
        """A new conversation with all its messages, in one transaction (transfer.py's import).

        Each message's ``parent`` is the index of its parent in ``new_messages`` (by default
        the one before: a chain); ``active_leaf`` the index of the message shown last
        (default: the last one).
        """
        clean = None if title is None else check_title(title)
        owner = check_owner(owner)
        parents = [
            (i - 1 if i else None) if m.parent == "previous" else m.parent
            for i, m in enumerate(new_messages)
        ]
        check_tree(parents, [m.role for m in new_messages])
        if len(new_messages) > MAX_MESSAGES_PER_CONVERSATION:
            raise LimitError("messages", f"more than {MAX_MESSAGES_PER_CONVERSATION} messages")
        if active_leaf is not None and not 0 <= active_leaf < len(new_messages):
            raise ValidationError("active_leaf", "active_leaf is not a message of the file")
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
            ids: dict[int, int] = {}
            for i in ordered_for_insert(parents):
                parent = parents[i]
                ids[i] = self._insert(
                    conn,
                    conversation_id,
                    new_messages[i],
                    created,
                    f"messages[{i}].",
                    None if parent is None else ids[parent],
                )
            if new_messages:
                self._settle(conn, conversation_id, ids, parents, active_leaf)
        return ConversationSummary(conversation_id, clean, created, updated, len(new_messages))

    def _settle(
        self,
        conn: Connection,
        conversation_id: str,
        ids: dict[int, int],
        parents: list[int | None],
        active: int | None,
    ) -> None:
        """An imported tree's active leaf, and the branch it shows remembered at each fork."""
        db_parents = {ids[i]: (None if p is None else ids[p]) for i, p in enumerate(parents)}
        children = children_of(db_parents)
        start = ids[len(parents) - 1 if active is None else active]
        leaf = choose_leaf(children, start, {})
        conn.execute(
            update(conversations)
            .where(conversations.c.id == conversation_id)
            .values(active_leaf=leaf)
        )
        for parent, child in forks_on(active_path(db_parents, leaf), children).items():
            self._remember(conn, conversation_id, None if parent == 0 else parent, child)
