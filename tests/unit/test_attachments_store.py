"""Attachments in the database (SQLite and the real PostgreSQL): beside their prompt, per
owner, counted per chat, deleted with the message or the chat, exported and imported exact."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, insert, inspect, select

from chat_core.attachments import prepare_files
from chat_core.errors import ValidationError
from chat_core.storage.schema import MIGRATIONS, SCHEMA_VERSION, attachments, schema_version
from chat_core.storage.store import ChatStore
from chat_core.storage.transfer import export_json, export_markdown, import_json
from tests.support.files import pdf, photo

FILES = prepare_files([("shot.png", photo()), ("notes.pdf", pdf("Forty two"))])


def _rows(store: ChatStore) -> int:
    with store.db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(attachments)).scalar_one())


def test_files_are_stored_beside_their_prompt_per_owner(store_url: str) -> None:
    with ChatStore(store_url) as store:
        chat = store.create_conversation("alice").id
        prompt = store.add_message("alice", chat, "user", "look", attachments=FILES)
        found = store.attachments_of("alice", [prompt.id])
        assert found[prompt.id] == list(FILES)  # bytes, names, pixels and text as written
        assert store.attachments_of("mallory", [prompt.id]) == {}
        assert store.attachment_bytes("alice", chat) == sum(len(a.data) for a in FILES)
        assert store.attachment_bytes("mallory", chat) == 0


def test_deleting_the_message_or_the_chat_deletes_its_files(store_url: str) -> None:
    with ChatStore(store_url) as store:
        chat = store.create_conversation("alice").id
        first = store.add_message("alice", chat, "user", "one", attachments=FILES)
        store.add_message("alice", chat, "assistant", "ok")
        store.delete_version("alice", first.id)
        assert _rows(store) == 0
        store.add_message("alice", chat, "user", "two", attachments=FILES)
        assert _rows(store) == 2
        store.delete("alice", chat)
        assert _rows(store) == 0


def test_a_refused_prompt_stores_no_file(store_url: str) -> None:
    with ChatStore(store_url) as store:
        chat = store.create_conversation("alice").id
        with pytest.raises(ValidationError):
            store.add_message("alice", chat, "user", "x" * 10_000_000, attachments=FILES)
        assert _rows(store) == 0


def test_export_and_import_bring_the_files_back_byte_identical(store_url: str) -> None:
    with ChatStore(store_url) as store:
        chat = store.create_conversation("alice").id
        prompt = store.add_message("alice", chat, "user", "look", attachments=FILES)
        store.add_message("alice", chat, "assistant", "seen")
        conversation = store.get_conversation("alice", chat, whole_tree=True)
        assert conversation is not None
        files = store.attachments_of("alice", [m.id for m in conversation.tree])
        exported = export_json(conversation, files)
        summary = import_json(store, "bob", exported)
        again = store.get_conversation("bob", summary.id, whole_tree=True)
        assert again is not None
        back = store.attachments_of("bob", [m.id for m in again.tree])
        assert back[again.messages[0].id] == files[prompt.id]
        assert export_json(again, back) == exported
        markdown = export_markdown(conversation, files)
        assert "- 📎 shot.png: PNG image," in markdown
        assert "- 📎 notes.pdf: PDF," in markdown and "9 characters of text" in markdown


def test_an_import_whose_file_is_not_what_it_says_is_refused_whole(store_url: str) -> None:
    with ChatStore(store_url) as store:
        chat = store.create_conversation("alice").id
        store.add_message("alice", chat, "user", "look", attachments=FILES)
        conversation = store.get_conversation("alice", chat, whole_tree=True)
        assert conversation is not None
        files = store.attachments_of("alice", [m.id for m in conversation.tree])
        data = json.loads(export_json(conversation, files))
        data["messages"][0]["attachments"][0]["data"] = "TVqQAA=="  # an executable, as PNG
        with pytest.raises(ValidationError) as info:
            import_json(store, "bob", json.dumps(data))
        assert info.value.field == "messages[0].attachments[0].data"
        assert store.list_conversations("bob") == []


def test_the_migration_adds_only_the_attachments_table(store_url: str) -> None:
    step = next(v for v, f in MIGRATIONS.items() if f.__name__ == "_add_attachments")
    with ChatStore(store_url) as store, store.db.write() as conn:
        attachments.drop(conn)
        conn.execute(schema_version.delete())
        conn.execute(insert(schema_version).values(version=step))
    with ChatStore(store_url) as again:
        assert again.migrated_from == step < SCHEMA_VERSION
        with again.db.read() as conn:
            assert inspect(conn).has_table("attachments")
