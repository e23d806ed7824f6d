"""Conversations and their messages, each call scoped to an owner, in SQLite or PostgreSQL.

    store = open_store(settings)                      # CHAT_DB_URL: connect, migrate, recover
    conv = store.create_conversation(owner)           # titled from the first prompt
    store.add_message(owner, conv.id, "user", prompt)
    answer = store.start_answer(owner, conv.id, model=model, params={"temperature": 0.7})
    store.update_partial(owner, answer.id, text_so_far)  # one UPDATE, also the heartbeat
    store.finish_message(owner, answer.id, text, status="complete", metrics=m, reasoning=r)

One store per process (``st.cache_resource`` in the app), safe from any thread;
several processes may share a database. Another owner's conversation or message
behaves exactly as an unknown one: ``None`` from getters, ``NotFoundError`` from
writers. Bad input raises ``ValidationError``/``LimitError`` naming the field,
database failures ``StoreError``. A message's position is chosen under a lock on
its conversation (``SELECT ... FOR UPDATE`` on PostgreSQL, ``BEGIN IMMEDIATE`` on
SQLite), so processes appending at once never collide. This module has the
methods on messages; ``conversations.py`` those on whole conversations,
``base.py`` the lookups and the recovery rule (only answers quiet for
``stale_after_s`` were left by a dead process), ``ledger.py`` usage and prefs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select, update

from chat_core.errors import NotFoundError, StoreError, ValidationError
from chat_core.messages import Attachment
from chat_core.settings import Settings, load_settings
from chat_core.storage.attachments import AttachmentRows
from chat_core.storage.branches import Parent
from chat_core.storage.conversations import Conversations
from chat_core.storage.ledger import Ledger
from chat_core.storage.records import (
    FINAL_STATUSES,
    NewMessage,
    StoredMessage,
    check_content,
    check_feedback,
    check_flat_object,
    check_owner,
    check_status,
    dumps_flat,
    title_from_prompt,
)
from chat_core.storage.schema import conversations, messages
from chat_core.storage.tool_calls import ToolCalls

__all__ = ["ChatStore", "NotFoundError", "StoreError", "open_store"]


class ChatStore(Conversations, Ledger, AttachmentRows, ToolCalls):
    """Owner-scoped conversations and messages; thread-safe, see the module docstring."""

    # -- messages ------------------------------------------------------------------------------
    def add_message(
        self,
        owner: str,
        conversation_id: str,
        role: str,
        content: str,
        *,
        status: str = "complete",
        model: str | None = None,
        params: Mapping[str, Any] | None = None,
        metrics: Mapping[str, Any] | None = None,
        reasoning: str = "",
        parent_id: Parent = "leaf",
        attachments: tuple[Attachment, ...] = (),
    ) -> StoredMessage:
        """Add a message under ``parent_id`` (default: after the active leaf; None: a new first
        prompt) and make it the active leaf; the first prompt titles an untitled chat."""
        new = NewMessage(
            role,
            content,
            status,
            model,
            params or {},
            metrics or {},
            reasoning=reasoning,
            attachments=attachments,  # in the same transaction: the prompt whole, or nothing
        )
        with self.db.write() as conn:
            conv = self._conversation(conn, owner, conversation_id, lock=True)
            parent = self._parent_for(conn, conv, parent_id)
            self._check_room(conn, conv["id"], parent)
            now = self._now()
            message_id = self._insert(conn, conv["id"], new, now, "", parent)
            self._make_active(conn, conv["id"], message_id, parent)
            changes: dict[str, Any] = {"updated_at": now}  # a live message moves it to the top
            if conv["title"] is None and role == "user":
                changes["title"] = title_from_prompt(content)
            conn.execute(
                update(conversations).where(conversations.c.id == conv["id"]).values(**changes)
            )
            return self._record(self._message_row(conn, owner, message_id))

    def start_answer(
        self,
        owner: str,
        conversation_id: str,
        *,
        model: str | None = None,
        params: Mapping[str, Any] | None = None,
        parent_id: Parent = "leaf",
    ) -> StoredMessage:
        """An empty assistant message with status ``streaming``, to grow with ``update_partial``
        (under ``parent_id``: a prompt's next version of its answer)."""
        return self.add_message(
            owner,
            conversation_id,
            "assistant",
            "",
            status="streaming",
            model=model,
            params=params,
            parent_id=parent_id,
        )

    def update_partial(self, owner: str, message_id: int, content: str) -> bool:
        """Store the text so far of a streaming answer: one UPDATE, which is also its heartbeat.

        False (and nothing written) when the message is no longer streaming, so a
        late partial never overwrites a finished answer, or is not the owner's.
        """
        check_content("assistant", content, "content")
        if isinstance(message_id, bool) or not isinstance(message_id, int):
            raise ValidationError("id", "an id must be an integer")
        owned = select(conversations.c.id).where(conversations.c.owner == check_owner(owner))
        with self.db.write() as conn:
            done = conn.execute(
                update(messages)
                .where(
                    messages.c.id == message_id,
                    messages.c.status == "streaming",
                    messages.c.conversation_id.in_(owned),
                )
                .values(content=content, updated_at=self._now())
            )
        return done.rowcount == 1

    def finish_message(
        self,
        owner: str,
        message_id: int,
        content: str | None = None,
        *,
        status: str,
        metrics: Mapping[str, Any] | None = None,
        reasoning: str | None = None,
    ) -> StoredMessage:
        """Finalize a streamed answer with its final status (complete, stopped, ...)."""
        check_status(status, "status", FINAL_STATUSES)
        return self.update_message(
            owner, message_id, content=content, status=status, metrics=metrics, reasoning=reasoning
        )

    def update_message(
        self,
        owner: str,
        message_id: int,
        *,
        content: str | None = None,
        status: str | None = None,
        metrics: Mapping[str, Any] | None = None,
        feedback: int | None = None,
        reasoning: str | None = None,
    ) -> StoredMessage:
        """Change some fields of a message; None leaves a field as it is."""
        with self.db.write() as conn:
            row = self._message_row(conn, owner, message_id)
            changes: dict[str, Any] = {}
            if content is not None:
                changes["content"] = check_content(row["role"], content, "content")
            if reasoning is not None:
                changes["reasoning"] = check_content("assistant", reasoning, "reasoning")
            if status is not None:
                changes["status"] = check_status(status, "status")
            if metrics is not None:
                changes["metrics"] = dumps_flat(check_flat_object(metrics, "metrics"))
            if feedback is not None:
                changes["feedback"] = check_feedback(feedback)
            if changes:
                now = self._now()
                conn.execute(
                    update(messages)
                    .where(messages.c.id == row["id"])
                    .values(**changes, updated_at=now)
                )
                if changes.keys() - {"feedback"}:  # feedback alone does not reorder the list
                    self._touch(conn, row["conversation_id"], now)
            return self._record(self._message_row(conn, owner, message_id))

    def edit_message(
        self, owner: str, message_id: int, content: str, *, params: Mapping[str, Any] | None = None
    ) -> StoredMessage:
        """Replace a message's text (and params, when given: a template's) and delete every
        later message (edit and resend)."""
        with self.db.write() as conn:
            row = self._message_row(conn, owner, message_id)
            self._conversation(conn, owner, row["conversation_id"], lock=True)
            text = check_content(row["role"], content, "content")
            now = self._now()
            changes: dict[str, Any] = {"content": text, "status": "complete", "updated_at": now}
            if params is not None:
                changes["params"] = dumps_flat(check_flat_object(params, "params"))
            conn.execute(update(messages).where(messages.c.id == row["id"]).values(**changes))
            self._delete_after(conn, row["conversation_id"], row["position"])
            self._repair_leaf(conn, row["conversation_id"])
            self._touch(conn, row["conversation_id"], now)
            return self._record(self._message_row(conn, owner, message_id))

    def truncate_after(self, owner: str, conversation_id: str, position: int) -> int:
        """Delete the messages after ``position`` (-1: all); returns how many went."""
        if isinstance(position, bool) or not isinstance(position, int) or position < -1:
            raise ValidationError("position", "position must be an integer from -1")
        with self.db.write() as conn:
            conv = self._conversation(conn, owner, conversation_id, lock=True)
            gone = self._delete_after(conn, conv["id"], position)
            if gone:
                self._repair_leaf(conn, conv["id"])
                self._touch(conn, conv["id"], self._now())
        return gone

    def get_message(self, owner: str, message_id: int) -> StoredMessage | None:
        """One message of the owner's, or None."""
        with self.db.read() as conn:
            try:
                return self._record(self._message_row(conn, owner, message_id))
            except NotFoundError:
                return None


def open_store(settings: Settings | None = None) -> ChatStore:
    """The store at ``settings.database_url`` (``CHAT_DB_URL`` or ``CHAT_DB_PATH``), migrated."""
    return ChatStore((settings or load_settings()).database_url)
