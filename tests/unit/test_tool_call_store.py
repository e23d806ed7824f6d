"""Tool calls stored with their answer: in order, results typed later, owner-scoped, deleted
with the answer; the v5 -> v6 migration adds only their table (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy import insert, select
from sqlalchemy import inspect as sa_inspect

from chat_core.errors import LimitError, NotFoundError
from chat_core.messages import ToolCall
from chat_core.storage.schema import MIGRATIONS, _add_tool_calls, schema_version, tool_calls
from chat_core.storage.store import ChatStore

CALLS = [ToolCall("c1", "get_weather", '{"city": "Paris"}'), ToolCall("c2", "calculator", "{")]


def answer(store: ChatStore, owner: str = "alice") -> int:
    conv = store.create_conversation(owner)
    store.add_message(owner, conv.id, "user", "weather?")
    return store.start_answer(owner, conv.id).id


def test_calls_and_results_round_trip_on_either_database(store_url: str) -> None:
    with ChatStore(store_url) as store:
        message_id = answer(store)
        store.save_tool_calls("alice", message_id, CALLS)
        store.answer_tool_call("alice", message_id, 1, "bad arguments", is_error=True)
        [first, second] = store.tool_calls_of("alice", [message_id])[message_id]
        assert (first.call, first.result, first.is_error) == (CALLS[0], None, False)
        assert (second.call, second.result, second.is_error) == (CALLS[1], "bad arguments", True)
        store.answer_tool_call("alice", message_id, 0, "18 C")
        assert store.tool_calls_of("alice", [message_id])[message_id][0].result == "18 C"


def test_another_owner_sees_and_writes_nothing(store_url: str) -> None:
    with ChatStore(store_url) as store:
        message_id = answer(store)
        store.save_tool_calls("alice", message_id, CALLS)
        assert store.tool_calls_of("mallory", [message_id]) == {}
        with pytest.raises(NotFoundError):
            store.answer_tool_call("mallory", message_id, 0, "x")
        with pytest.raises(NotFoundError):
            store.save_tool_calls("mallory", message_id, CALLS)
        with pytest.raises(NotFoundError):
            store.answer_tool_call("alice", message_id, 7, "no such call")


def test_limits_and_cascade() -> None:
    with ChatStore("sqlite://") as store:
        message_id = answer(store)
        with pytest.raises(LimitError):
            store.save_tool_calls("alice", message_id, [CALLS[0]] * 101)
        store.save_tool_calls("alice", message_id, [CALLS[0]] * 100)
        with pytest.raises(LimitError):
            store.answer_tool_call("alice", message_id, 0, "x" * 1_000_000)
        assert store.tool_calls_of("alice", [message_id])[message_id][0].result is None
        store.delete_version("alice", message_id)
        with store.db.read() as conn:
            assert conn.execute(select(tool_calls)).fetchall() == []


def test_the_migration_adds_only_the_tool_call_table(store_url: str) -> None:
    version = next(v for v, step in MIGRATIONS.items() if step is _add_tool_calls)
    with ChatStore(store_url) as store, store.db.write() as conn:
        tool_calls.drop(conn)
        conn.execute(schema_version.delete())
        conn.execute(insert(schema_version).values(version=version))
    with ChatStore(store_url) as again:
        assert again.migrated_from == version
        with again.db.write() as conn:
            assert sa_inspect(conn).has_table("tool_calls")
        message_id = answer(again)
        again.save_tool_calls("alice", message_id, CALLS[:1])
        assert len(again.tool_calls_of("alice", [message_id])[message_id]) == 1


def test_export_and_import_keep_calls_and_results() -> None:
    import json

    from chat_core.errors import ValidationError
    from chat_core.storage.transfer import export_json, import_json

    with ChatStore("sqlite://") as store:
        message_id = answer(store)
        store.finish_message("alice", message_id, "", status="complete")
        store.save_tool_calls("alice", message_id, CALLS)
        store.answer_tool_call("alice", message_id, 0, "18 C")
        conv_id = store.get_message("alice", message_id).conversation_id  # type: ignore[union-attr]
        stored = store.get_conversation("alice", conv_id, whole_tree=True)
        assert stored is not None
        text = export_json(
            stored, tool_calls=store.tool_calls_of("alice", [m.id for m in stored.tree])
        )
        exported = json.loads(text)["messages"][1]["tool_calls"]
        assert exported[0] == {
            "id": "c1",
            "name": "get_weather",
            "arguments": '{"city": "Paris"}',
            "result": "18 C",
            "is_error": False,
        }
        assert "tool_calls" not in json.loads(text)["messages"][0]
        copy = import_json(store, "bob", text)
        again = store.get_conversation("bob", copy.id, whole_tree=True)
        assert again is not None
        calls = store.tool_calls_of("bob", [m.id for m in again.tree])
        assert (
            export_json(again, tool_calls=calls) == text
        )  # export -> import -> export: same bytes
        bad = json.loads(text)
        bad["messages"][1]["tool_calls"][0]["result"] = 3
        before = len(store.list_conversations("bob"))
        with pytest.raises(ValidationError) as info:
            import_json(store, "bob", json.dumps(bad))
        assert "tool_calls[0].result" in info.value.field
        assert len(store.list_conversations("bob")) == before  # nothing written
