"""Conversation storage: records and their checks, the store, export and import."""

from __future__ import annotations

from chat_core.storage.records import LEGACY_OWNER, SHARED_OWNER
from chat_core.storage.store import ChatStore, NotFoundError, StoreError, open_store
from chat_core.storage.transfer import export_filename, export_json, export_markdown, import_json

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
]
