"""Search an owner's chats: titles and message text, in one query.

The chat list's search box used to match titles only, so a chat found by what was
said in it (the usual way people remember a chat) never showed up.
"""

from __future__ import annotations

from sqlalchemy import and_, exists, func, or_, select

from chat_core.storage.base import StoreBase
from chat_core.storage.records import check_owner
from chat_core.storage.schema import conversations, messages

__all__ = ["search_conversations"]

MAX_QUERY_WORDS = 8  # a pasted paragraph is not a search: its first words are


def search_conversations(store: StoreBase, owner: str, query: str) -> set[str] | None:
    """Ids of the owner's chats whose title or messages contain every word of ``query``.

    Any case; None when the query has no words (nothing to filter by).
    """
    words = query.lower().split()[:MAX_QUERY_WORDS]
    if not words:
        return None
    each_word = [
        or_(
            func.lower(conversations.c.title).contains(word, autoescape=True),
            exists(
                select(messages.c.id).where(
                    messages.c.conversation_id == conversations.c.id,
                    func.lower(messages.c.content).contains(word, autoescape=True),
                )
            ),
        )
        for word in words
    ]
    found = select(conversations.c.id).where(
        conversations.c.owner == check_owner(owner), and_(*each_word)
    )
    with store.db.read() as conn:
        return {row[0] for row in conn.execute(found)}
