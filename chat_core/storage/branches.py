"""Versions and branches of a conversation: the active path, switching, forking, deleting a version.

``ChatStore`` inherits these methods. A message's ``parent_id`` is the only link
(siblings are derived, see ``chat_core.tree``); each conversation stores its
``active_leaf``, and ``branch_choices`` the child last viewed at each fork point
(parent 0 for the first prompt's versions), so a switch lands where the person
was, never on an unrelated branch.

Reading a chat reads its active path only, with one recursive query (the same
SQL on SQLite and PostgreSQL), and the ids at the tree's fork points: a long,
branched chat costs a read its path, not its tree. Only a switch or a deletion
reads the tree's skeleton (ids and parents, no text), to choose the leaf below.
"""

from __future__ import annotations

from typing import Literal

from sqlalchemy import (
    ColumnElement,
    Connection,
    RowMapping,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)

from chat_core.errors import LimitError, NotFoundError, ValidationError
from chat_core.storage.base import StoreBase
from chat_core.storage.records import (
    MAX_MESSAGES_PER_CONVERSATION,
    MAX_TITLE_CHARS,
    ConversationSummary,
    NewMessage,
    StoredMessage,
    check_owner,
    new_conversation_id,
)
from chat_core.storage.schema import branch_choices, conversations, messages
from chat_core.tree import MAX_SIBLINGS, choose_leaf

Parent = int | Literal["leaf"] | None  # "leaf": after the active leaf (the usual append)
_ROOT = 0  # branch_choices' parent for the first prompt's versions (ids start at 1)


class Branches(StoreBase):
    """The tree methods over ``StoreBase`` (mixed into ``ChatStore``)."""

    # -- what a rerun reads --------------------------------------------------------------------
    def _path_rows(
        self, conn: Connection, conversation_id: str, leaf: int | None
    ) -> list[RowMapping]:
        """The messages from the root down to ``leaf``, in one recursive query."""
        if leaf is None:
            return []
        anchor = select(messages.c.id, messages.c.parent_id, literal(0).label("depth")).where(
            messages.c.id == leaf, messages.c.conversation_id == conversation_id
        )
        path = anchor.cte("path", recursive=True)
        up = messages.alias("up")
        path = path.union_all(
            select(up.c.id, up.c.parent_id, path.c.depth + 1).where(
                up.c.id == path.c.parent_id,
                up.c.conversation_id == conversation_id,
                path.c.depth < MAX_MESSAGES_PER_CONVERSATION,  # a corrupt cycle ends here
            )
        )
        query = select(messages).join(path, messages.c.id == path.c.id)
        return list(conn.execute(query.order_by(path.c.depth.desc())).mappings())

    @staticmethod
    def _siblings(
        conn: Connection, conversation_id: str, path: list[RowMapping]
    ) -> dict[int, tuple[int, ...]]:
        """For each path message with other versions: all of them, oldest first. One query for
        the ids at the tree's fork points (no text), not a parameter per path message."""
        if not path:
            return {}
        parent = func.coalesce(messages.c.parent_id, _ROOT)
        in_chat = messages.c.conversation_id == conversation_id
        forks = select(parent).where(in_chat).group_by(parent).having(func.count() > 1)
        query = (
            select(messages.c.id, messages.c.parent_id)
            .where(in_chat, parent.in_(forks.scalar_subquery()))
            .order_by(messages.c.position)
        )
        children: dict[int | None, list[int]] = {}
        for message_id, parent_id in conn.execute(query):
            children.setdefault(parent_id, []).append(message_id)
        return {
            row["id"]: tuple(children[row["parent_id"]])
            for row in path
            if row["parent_id"] in children
        }

    # -- writing into the tree -----------------------------------------------------------------
    @staticmethod
    def _parent_for(conn: Connection, conv: RowMapping, parent: Parent) -> int | None:
        """The parent a new message goes under, checked to be in this conversation."""
        if parent == "leaf":
            return conv["active_leaf"]  # type: ignore[no-any-return]
        if parent is None:
            return None
        if isinstance(parent, bool) or not isinstance(parent, int):
            raise ValidationError("parent_id", "a parent id must be an integer")
        found = conn.execute(
            select(messages.c.id).where(
                messages.c.id == parent, messages.c.conversation_id == conv["id"]
            )
        ).first()
        if found is None:
            raise NotFoundError("parent_id", "no such message")
        return parent

    @staticmethod
    def _under(conversation_id: str, parent_id: int | None) -> ColumnElement[bool]:
        column = messages.c.parent_id
        return (messages.c.conversation_id == conversation_id) & (
            column.is_(None) if parent_id is None else column == parent_id
        )

    def _check_room(self, conn: Connection, conversation_id: str, parent_id: int | None) -> None:
        count = conn.execute(
            select(func.count()).where(self._under(conversation_id, parent_id))
        ).scalar_one()
        if count >= MAX_SIBLINGS:
            raise LimitError("parent_id", f"a message has at most {MAX_SIBLINGS} versions")

    def _make_active(
        self, conn: Connection, conversation_id: str, message_id: int, parent_id: int | None
    ) -> None:
        """A new message is the active leaf; at a fork it is also the child last viewed."""
        conn.execute(
            update(conversations)
            .where(conversations.c.id == conversation_id)
            .values(active_leaf=message_id)
        )
        siblings = conn.execute(
            select(func.count()).where(self._under(conversation_id, parent_id))
        ).scalar_one()
        if siblings > 1:
            self._remember(conn, conversation_id, parent_id, message_id)

    @staticmethod
    def _remember(
        conn: Connection, conversation_id: str, parent_id: int | None, child: int
    ) -> None:
        key = _ROOT if parent_id is None else parent_id
        mine = branch_choices.c.conversation_id == conversation_id
        conn.execute(delete(branch_choices).where(mine, branch_choices.c.parent_id == key))
        conn.execute(
            insert(branch_choices).values(
                conversation_id=conversation_id, parent_id=key, child_id=child
            )
        )

    @staticmethod
    def _repair_leaf(conn: Connection, conversation_id: str) -> None:
        """After deleting every message past a position: the newest one left is the leaf (all
        that came after it are gone), and no choice names a message that is gone."""
        newest = (
            select(messages.c.id)
            .where(messages.c.conversation_id == conversation_id)
            .order_by(messages.c.position.desc())
            .limit(1)
            .scalar_subquery()
        )
        conn.execute(
            update(conversations)
            .where(conversations.c.id == conversation_id)
            .values(active_leaf=newest)
        )
        kept = select(messages.c.id).where(messages.c.conversation_id == conversation_id)
        conn.execute(
            delete(branch_choices).where(
                branch_choices.c.conversation_id == conversation_id,
                branch_choices.c.child_id.not_in(kept),
            )
        )

    def _skeleton(
        self, conn: Connection, conversation_id: str
    ) -> tuple[dict[int | None, list[int]], dict[int | None, int]]:
        """The tree without text: children per parent (oldest first), and the fork choices."""
        children: dict[int | None, list[int]] = {}
        rows = conn.execute(
            select(messages.c.id, messages.c.parent_id)
            .where(messages.c.conversation_id == conversation_id)
            .order_by(messages.c.position)
        )
        for message_id, parent_id in rows:
            children.setdefault(parent_id, []).append(message_id)
        choices = {
            (None if parent == _ROOT else parent): child
            for parent, child in conn.execute(
                select(branch_choices.c.parent_id, branch_choices.c.child_id).where(
                    branch_choices.c.conversation_id == conversation_id
                )
            )
        }
        return children, choices

    # -- what users do -------------------------------------------------------------------------
    def switch_version(self, owner: str, message_id: int) -> int:
        """Show the branch through ``message_id`` (a sibling of a shown message); returns the
        new active leaf: below it, the child last viewed at every fork."""
        with self.db.write() as conn:
            row = self._message_row(conn, owner, message_id)
            conv = self._conversation(conn, owner, row["conversation_id"], lock=True)
            self._remember(conn, conv["id"], row["parent_id"], row["id"])
            children, choices = self._skeleton(conn, conv["id"])
            leaf = choose_leaf(children, row["id"], choices)
            conn.execute(
                update(conversations)
                .where(conversations.c.id == conv["id"])
                .values(active_leaf=leaf)
            )
            return leaf

    def delete_version(self, owner: str, message_id: int) -> int:
        """Delete one version and its subtree (only that); returns how many messages went."""
        with self.db.write() as conn:
            row = self._message_row(conn, owner, message_id)
            conv = self._conversation(conn, owner, row["conversation_id"], lock=True)
            children, choices = self._skeleton(conn, conv["id"])
            gone, todo = [], [row["id"]]
            while todo:
                node = todo.pop()
                gone.append(node)
                todo.extend(children.get(node, ()))
            for start in range(0, len(gone), 500):
                batch = gone[start : start + 500]
                conn.execute(delete(messages).where(messages.c.id.in_(batch)))
                conn.execute(
                    delete(branch_choices).where(
                        branch_choices.c.conversation_id == conv["id"],
                        or_(
                            branch_choices.c.child_id.in_(batch),
                            branch_choices.c.parent_id.in_(batch),
                        ),
                    )
                )
            if conv["active_leaf"] in gone:
                parent = row["parent_id"]
                children[parent] = [c for c in children.get(parent, []) if c != row["id"]]
                if children[parent]:
                    leaf: int | None = choose_leaf(children, children[parent][-1], choices)
                    self._remember(conn, conv["id"], parent, children[parent][-1])
                else:
                    leaf = parent
                conn.execute(
                    update(conversations)
                    .where(conversations.c.id == conv["id"])
                    .values(active_leaf=leaf)
                )
            self._touch(conn, conv["id"], self._now())
            return len(gone)

    def fork(self, owner: str, message_id: int) -> ConversationSummary:
        """A new conversation holding the path from the first prompt down to ``message_id``."""
        owner = check_owner(owner)
        with self.db.write() as conn:
            row = self._message_row(conn, owner, message_id)
            conv = self._conversation(conn, owner, row["conversation_id"])
            path = [self._record(r) for r in self._path_rows(conn, conv["id"], row["id"])]
            title = f"Fork of {conv['title'] or 'a chat'}"[:MAX_TITLE_CHARS]
            now = self._now()
            new_id = new_conversation_id()
            conn.execute(
                insert(conversations).values(
                    id=new_id, owner=owner, title=title, created_at=now, updated_at=now
                )
            )
            parent = None
            for message in path:
                parent = self._insert(conn, new_id, _copy(message), now, "", parent)
            conn.execute(
                update(conversations).where(conversations.c.id == new_id).values(active_leaf=parent)
            )
        return ConversationSummary(new_id, title, now, now, len(path))


def _copy(message: StoredMessage) -> NewMessage:
    """A message as a fork copies it: an answer still streaming is a snapshot, interrupted."""
    status = "interrupted" if message.status == "streaming" else message.status
    return NewMessage(
        message.role,
        message.content,
        status,
        message.model,
        message.params,
        message.metrics,
        message.feedback,
        message.created_at,
        message.reasoning,
    )
