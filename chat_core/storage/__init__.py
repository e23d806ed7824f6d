"""Conversation storage in any SQL database SQLAlchemy speaks (SQLite by default, PostgreSQL).

    records.py        the stored records and the field checks every write goes through (pure)
    schema.py         the tables and the one migration path (schema_version table)
    db.py             the engine and its read / write transactions; driver errors -> StoreError
    base.py           opening, recovery of stale answers, owner-scoped lookups
    ledger.py         the usage ledger (visitor budget) and per-owner preferences
    conversations.py  whole conversations: create, list, read, rename, delete, import
    branches.py       the tree: active path, versions, switch, fork, delete a version
    store.py          ChatStore: those, plus messages, every call scoped to an owner
    search.py         find chats by title and message text
    transfer.py       export to Markdown / JSON, strict all-or-nothing JSON import
    tree_file.py      a JSON export's tree, checked before anything is written

Storage imports neither runs nor chat (a test checks it).
"""

from __future__ import annotations

from chat_core.storage.records import LEGACY_OWNER, SHARED_OWNER
from chat_core.storage.search import search_conversations
from chat_core.storage.store import ChatStore, NotFoundError, StoreError, open_store
from chat_core.storage.transfer import (
    export_filename,
    export_json,
    export_markdown,
    import_json,
    same_chat,
)

__all__ = [
    "LEGACY_OWNER",
    "SHARED_OWNER",
    "ChatStore",
    "NotFoundError",
    "StoreError",
    "export_filename",
    "export_json",
    "export_markdown",
    "import_json",
    "open_store",
    "same_chat",
    "search_conversations",
]
