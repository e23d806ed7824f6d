"""The store on SQLite and on a real PostgreSQL: CRUD, ordering, owners, reasoning, usage, recovery.

Every test taking ``store`` runs twice (``store_url`` in tests/conftest.py).
Migrations from the pre-owner SQLite files are in test_store_migrations.py,
several processes and crashes in tests/integration/test_store_processes.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from chat_core.errors import LimitError, NotFoundError, StoreError, ValidationError
from chat_core.messages import MAX_MESSAGE_CHARS
from chat_core.settings import Settings
from chat_core.storage.records import (
    DEFAULT_TITLE,
    MAX_ANSWER_CHARS,
    MAX_MESSAGES_PER_CONVERSATION,
    NewMessage,
    title_from_prompt,
)
from chat_core.storage.schema import SCHEMA_VERSION, metadata, schema_version
from chat_core.storage.store import ChatStore, open_store

ME = "browser:me"
OTHER = "browser:someone-else"


@pytest.fixture
def store(store_url: str):
    with ChatStore(store_url) as s:
        yield s


def raw_count(store: ChatStore, table: str) -> int:
    with store.db.read() as conn:
        return int(
            conn.execute(select(func.count()).select_from(metadata.tables[table])).scalar_one()
        )


# -- create, list, rename, delete ---------------------------------------------------------------
def test_open_store_from_settings_creates_the_schema(store_url: str) -> None:
    with open_store(Settings(db_url=store_url)) as s:
        assert s.list_conversations(ME) == []
        assert s.migrated_from == 0
        with s.db.read() as conn:
            assert conn.execute(select(schema_version.c.version)).scalars().all() == [
                SCHEMA_VERSION
            ]
    with ChatStore(store_url) as again:
        assert again.migrated_from == SCHEMA_VERSION


def test_db_path_still_names_a_sqlite_file(tmp_path) -> None:
    path = tmp_path / "a" / "b" / "chats.sqlite3"
    with open_store(Settings(db_path=str(path))) as s:
        s.create_conversation(ME)
        assert s.db.dialect == "sqlite"
    assert path.is_file()


def test_create_then_first_prompt_titles_the_conversation(store: ChatStore) -> None:
    conv = store.create_conversation(ME)
    assert (conv.title, conv.message_count) == (DEFAULT_TITLE, 0)
    store.add_message(ME, conv.id, "user", "/lorem 40\n  How do   tides work?")
    store.add_message(ME, conv.id, "user", "A second prompt does not rename it")
    got = store.get_conversation(ME, conv.id)
    assert got is not None
    assert got.title == "How do tides work?"
    assert [m.position for m in got.messages] == [0, 1]
    assert got.messages[0].content == "/lorem 40\n  How do   tides work?"  # stored verbatim


def test_explicit_title_is_kept(store: ChatStore) -> None:
    conv = store.create_conversation(ME, "  My   plan ")
    store.add_message(ME, conv.id, "user", "hello")
    assert store.list_conversations(ME)[0].title == "My plan"


def test_title_from_prompt_is_short_and_cut_at_a_word() -> None:
    long = "Explain the difference between threads and processes in Python with examples"
    title = title_from_prompt(long)
    assert title.endswith("…") and len(title) <= 48
    assert long.startswith(title[:-1])
    assert title[:-1] == title[:-1].rstrip()
    assert title_from_prompt("   ") == DEFAULT_TITLE
    assert title_from_prompt("/lorem 5") == "/lorem 5"  # only directives: keep them


def test_list_is_most_recent_first(store: ChatStore) -> None:
    a = store.create_conversation(ME, "a")
    b = store.create_conversation(ME, "b")
    c = store.create_conversation(ME, "c")
    assert [x.title for x in store.list_conversations(ME)] == ["c", "b", "a"]
    store.add_message(ME, a.id, "user", "bump a")
    assert [x.title for x in store.list_conversations(ME)] == ["a", "c", "b"]
    store.rename(ME, b.id, "b renamed")  # renaming is not activity
    msg = store.add_message(ME, c.id, "user", "bump c")
    assert [x.title for x in store.list_conversations(ME)] == ["c", "a", "b renamed"]
    store.update_message(ME, msg.id, feedback=1)  # nor is feedback
    assert [x.id for x in store.list_conversations(ME)] == [c.id, a.id, b.id]
    assert [x.message_count for x in store.list_conversations(ME)] == [1, 1, 0]


def test_rename_validates_and_normalizes(store: ChatStore) -> None:
    conv = store.create_conversation(ME)
    store.rename(ME, conv.id, " Trip\nnotes ")
    assert store.list_conversations(ME)[0].title == "Trip notes"
    with pytest.raises(ValidationError) as err:
        store.rename(ME, conv.id, "   ")
    assert err.value.field == "title"
    with pytest.raises(LimitError):
        store.rename(ME, conv.id, "x" * 201)
    with pytest.raises(NotFoundError):
        store.rename(ME, conv.id + "x", "nobody")


def test_delete_removes_messages_and_ids_are_unguessable(store: ChatStore) -> None:
    conv = store.create_conversation(ME)
    store.add_message(ME, conv.id, "user", "hi")
    store.add_message(ME, conv.id, "assistant", "hello")
    assert store.delete(ME, conv.id) is True
    assert store.get_conversation(ME, conv.id) is None
    assert raw_count(store, "messages") == 0
    assert store.delete(ME, conv.id) is False
    ids = {store.create_conversation(ME).id for _ in range(20)}
    assert conv.id not in ids and len(ids) == 20  # a stale link never opens another chat
    assert all(len(i) >= 22 and not i.isdigit() for i in ids)  # 128 random bits, not a counter


# -- messages ------------------------------------------------------------------------------------
def test_streaming_answer_grows_then_is_finalized(store: ChatStore) -> None:
    conv = store.create_conversation(ME)
    store.add_message(ME, conv.id, "user", "hi")
    answer = store.start_answer(ME, conv.id, model="gpt-4o-mini", params={"temperature": 0.2})
    assert (answer.status, answer.content, answer.position) == ("streaming", "", 1)
    assert store.update_partial(ME, answer.id, "Hel") is True
    assert store.get_message(ME, answer.id).content == "Hel"  # type: ignore[union-attr]
    done = store.finish_message(
        ME, answer.id, "Hello", status="stopped", metrics={"tokens": 2, "prompt_tokens": 5}
    )
    assert (done.content, done.status, done.metrics["tokens"]) == ("Hello", "stopped", 2)
    assert done.params == {"temperature": 0.2} and done.model == "gpt-4o-mini"
    # a late partial from another thread must not overwrite the final text
    assert store.update_partial(ME, answer.id, "He") is False
    assert store.get_message(ME, answer.id).content == "Hello"  # type: ignore[union-attr]
    with pytest.raises(ValidationError):
        store.finish_message(ME, answer.id, status="streaming")


def test_history_has_text_only(store: ChatStore) -> None:
    conv = store.create_conversation(ME)
    store.add_message(ME, conv.id, "user", "q1")
    store.add_message(ME, conv.id, "assistant", "", status="error")
    store.add_message(ME, conv.id, "user", "q2")
    store.add_message(ME, conv.id, "assistant", "partial", status="stopped")
    history = store.get_conversation(ME, conv.id).history()  # type: ignore[union-attr]
    assert [(m.role, m.content) for m in history] == [
        ("user", "q1"),
        ("user", "q2"),
        ("assistant", "partial"),
    ]


def test_regenerate_and_edit_replace_later_turns(store: ChatStore) -> None:
    conv = store.create_conversation(ME)
    q1 = store.add_message(ME, conv.id, "user", "q1")
    store.add_message(ME, conv.id, "assistant", "a1")
    q2 = store.add_message(ME, conv.id, "user", "q2")
    store.add_message(ME, conv.id, "assistant", "a2")
    # regenerate the last answer: drop it, a new one takes its position
    assert store.truncate_after(ME, conv.id, q2.position) == 1
    again = store.start_answer(ME, conv.id)
    assert again.position == 3
    # edit the first prompt and resend: everything after it goes
    edited = store.edit_message(ME, q1.id, "q1, better")
    assert edited.content == "q1, better"
    got = store.get_conversation(ME, conv.id)
    assert [(m.role, m.content) for m in got.messages] == [("user", "q1, better")]  # type: ignore[union-attr]
    assert store.add_message(ME, conv.id, "assistant", "a1'").position == 1
    with pytest.raises(ValidationError):
        store.truncate_after(ME, conv.id, -2)


def test_feedback_and_validation(store: ChatStore) -> None:
    conv = store.create_conversation(ME)
    msg = store.add_message(ME, conv.id, "assistant", "answer")
    assert store.update_message(ME, msg.id, feedback=-1).feedback == -1
    assert store.update_message(ME, msg.id, feedback=0).feedback == 0
    bad_calls = [
        (lambda: store.update_message(ME, msg.id, feedback=2), "feedback"),
        (lambda: store.update_message(ME, msg.id, feedback=True), "feedback"),
        (lambda: store.update_message(ME, msg.id, status="done"), "status"),
        (lambda: store.add_message(ME, conv.id, "tool", "x"), "role"),
        (lambda: store.add_message(ME, conv.id, "user", "   "), "content"),
        (lambda: store.add_message(ME, conv.id, "user", 5), "content"),  # type: ignore[arg-type]
        (lambda: store.add_message(ME, conv.id, "user", "x", params={"a": {"b": 1}}), "params.a"),
        (
            lambda: store.add_message(ME, conv.id, "user", "x", metrics={"t": float("nan")}),
            "metrics.t",
        ),
        (lambda: store.add_message(ME, conv.id, "user", "x", model=""), "model"),
        (lambda: store.add_message(ME, conv.id, "user", "\ud800"), "content"),
        (lambda: store.update_message(ME, "1", feedback=1), "id"),
        (lambda: store.add_message("", conv.id, "user", "x"), "owner"),
        (lambda: store.finish_message(ME, msg.id, status="complete", reasoning=7), "reasoning"),  # type: ignore[arg-type]
    ]
    for call, field in bad_calls:
        with pytest.raises(ValidationError) as err:
            call()
        assert err.value.field == field
    with pytest.raises(NotFoundError):
        store.update_message(ME, msg.id + 100, feedback=1)
    assert store.get_conversation(ME, conv.id).messages[0].feedback == 0  # type: ignore[union-attr]


def test_limits_reuse_the_message_limits(store: ChatStore) -> None:
    conv = store.create_conversation(ME)
    with pytest.raises(LimitError):
        store.add_message(ME, conv.id, "user", "x" * (MAX_MESSAGE_CHARS + 1))
    answer = store.start_answer(ME, conv.id)
    assert store.update_partial(ME, answer.id, "x" * MAX_MESSAGE_CHARS * 2)  # answers may be longer
    with pytest.raises(LimitError):
        store.update_partial(ME, answer.id, "x" * (MAX_ANSWER_CHARS + 1))
    full = [NewMessage("user", "q")] * (MAX_MESSAGES_PER_CONVERSATION - 1)
    big = store.import_conversation(ME, "big", full)
    store.add_message(ME, big.id, "assistant", "the last one that fits")
    with pytest.raises(LimitError):
        store.add_message(ME, big.id, "user", "one too many")


def test_prefs_round_trip_per_owner(store: ChatStore) -> None:
    assert store.get_pref(ME, "last_conversation", 0) == 0
    store.set_pref(ME, "last_conversation", 7)
    store.set_pref(ME, "last_conversation", {"id": 8, "tab": "chat"})
    assert store.get_pref(ME, "last_conversation") == {"id": 8, "tab": "chat"}
    with pytest.raises(ValidationError):
        store.set_pref(ME, "x", object())
    with pytest.raises(LimitError):
        store.set_pref(ME, "x", "y" * 200_000)
    assert store.get_pref(OTHER, "last_conversation") is None  # another owner's prefs


# -- owners ------------------------------------------------------------------------------------
def test_another_owners_ids_behave_exactly_as_unknown(store: ChatStore) -> None:
    conv = store.create_conversation(ME, "mine")
    question = store.add_message(ME, conv.id, "user", "private question")
    answer = store.start_answer(ME, conv.id)
    # what an unknown id does, for comparison
    assert store.get_conversation(OTHER, "no-such-id") is None
    assert store.get_conversation(OTHER, conv.id) is None
    assert store.list_conversations(OTHER) == []
    assert store.get_message(OTHER, question.id) is None
    assert store.delete(OTHER, conv.id) is False
    assert store.update_partial(OTHER, answer.id, "overwritten") is False
    attempts = [
        lambda: store.rename(OTHER, conv.id, "stolen"),
        lambda: store.add_message(OTHER, conv.id, "user", "injected"),
        lambda: store.start_answer(OTHER, conv.id),
        lambda: store.truncate_after(OTHER, conv.id, -1),  # clear, regenerate
        lambda: store.edit_message(OTHER, question.id, "edited"),
        lambda: store.update_message(OTHER, question.id, feedback=1),
        lambda: store.finish_message(OTHER, answer.id, "done", status="complete"),
    ]
    for attempt in attempts:
        with pytest.raises(NotFoundError):
            attempt()
    got = store.get_conversation(ME, conv.id)
    assert got is not None and got.title == "mine"
    assert [(m.content, m.status, m.feedback) for m in got.messages] == [
        ("private question", "complete", 0),
        ("", "streaming", 0),
    ]
    assert [c.id for c in store.list_conversations(ME)] == [conv.id]


def test_imports_belong_to_the_importer_only(store: ChatStore) -> None:
    mine = store.import_conversation(ME, "imported", [NewMessage("user", "q")])
    assert [c.id for c in store.list_conversations(ME)] == [mine.id]
    assert store.list_conversations(OTHER) == []
    assert store.get_conversation(OTHER, mine.id) is None


def test_an_operator_can_hand_one_owners_chats_to_another(store: ChatStore) -> None:
    kept = store.create_conversation(ME, "old shared chat")
    store.create_conversation(OTHER, "not moved")
    assert store.reassign_owner(ME, "shared") == 1
    assert store.get_conversation(ME, kept.id) is None
    assert [c.title for c in store.list_conversations("shared")] == ["old shared chat"]
    assert [c.title for c in store.list_conversations(OTHER)] == ["not moved"]
    assert store.reassign_owner(ME, "shared") == 0


# -- reasoning ---------------------------------------------------------------------------------
def test_reasoning_is_stored_beside_the_answer(store: ChatStore) -> None:
    conv = store.create_conversation(ME)
    store.add_message(ME, conv.id, "user", "why?")
    answer = store.start_answer(ME, conv.id)
    assert answer.reasoning == ""
    done = store.finish_message(
        ME, answer.id, "Because.", status="complete", reasoning="The user asks why."
    )
    assert (done.content, done.reasoning) == ("Because.", "The user asks why.")
    got = store.get_conversation(ME, conv.id)
    assert got is not None and got.messages[1].reasoning == "The user asks why."
    assert [m.content for m in got.history()] == ["why?", "Because."]  # reasoning is not resent


# -- recovery ----------------------------------------------------------------------------------
def test_reopen_marks_only_stale_streaming_rows_interrupted(store_url: str) -> None:
    with ChatStore(store_url) as first:
        conv = first.create_conversation(ME)
        first.add_message(ME, conv.id, "user", "hi")
        answer = first.start_answer(ME, conv.id)
        first.update_partial(ME, answer.id, "half an ans")
        # another process opening now: the answer is fresh, so it is somebody's live one
        with ChatStore(store_url) as second:
            assert second.interrupted_on_open == 0
            live = second.get_message(ME, answer.id)
            assert live is not None and live.status == "streaming"
            assert first.update_partial(ME, answer.id, "half an answer") is True
        # once quiet for longer than stale_after_s, its writer counts as dead
        with ChatStore(store_url, stale_after_s=0) as third:
            assert third.interrupted_on_open == 1
            msg = third.get_message(ME, answer.id)
            assert msg is not None and (msg.status, msg.content) == (
                "interrupted",
                "half an answer",
            )
        with ChatStore(store_url, stale_after_s=0) as fourth:
            assert fourth.interrupted_on_open == 0


def test_a_stale_streaming_row_reads_as_interrupted_before_recovery(store_url: str) -> None:
    with ChatStore(store_url, recover=False) as s:
        conv = s.create_conversation(ME)
        answer = s.start_answer(ME, conv.id)
        s.stale_after_s = 0
        got = s.get_conversation(ME, conv.id)
        assert got is not None and got.messages[0].status == "interrupted"
        s.stale_after_s = 3600
        assert s.get_message(ME, answer.id).status == "streaming"  # type: ignore[union-attr]


# -- usage ledger --------------------------------------------------------------------------------
def test_usage_sums_per_identity_over_a_window_and_survives_a_restart(store_url: str) -> None:
    now = datetime.now(UTC)
    with ChatStore(store_url) as s:
        s.add_usage(ME, requests=1, tokens=100, at=now - timedelta(hours=2))
        s.add_usage(ME, requests=1, tokens=40, at=now - timedelta(minutes=30))
        s.add_usage(ME, requests=2, tokens=2, at=now)
        s.add_usage(OTHER, requests=5, tokens=500, at=now)
        assert s.usage_since(ME, now - timedelta(hours=1)) == (3, 42)
        assert s.usage_since(ME, now - timedelta(hours=3)) == (4, 142)
    with ChatStore(store_url) as restarted:
        assert restarted.usage_since(ME, now - timedelta(hours=1)) == (3, 42)
        assert restarted.usage_since(OTHER, now - timedelta(hours=1)) == (5, 500)
        assert restarted.usage_since("browser:nobody", now - timedelta(hours=1)) == (0, 0)
        assert restarted.prune_usage(now - timedelta(hours=1)) == 1
        assert restarted.usage_since(ME, now - timedelta(hours=3)) == (3, 42)


def test_usage_in_another_timezone_counts_by_the_instant(store: ChatStore) -> None:
    now = datetime.now(UTC)
    store.add_usage(ME, requests=1, tokens=1, at=now.astimezone(timezone(timedelta(hours=5))))
    assert store.usage_since(ME, now - timedelta(seconds=1)) == (1, 1)
    assert store.usage_since(ME, now + timedelta(seconds=1)) == (0, 0)


def test_usage_refuses_bad_input(store: ChatStore) -> None:
    bad = [
        (lambda: store.add_usage(ME, requests=-1, tokens=0), "requests"),
        (lambda: store.add_usage(ME, requests=1, tokens=True), "tokens"),
        (lambda: store.add_usage("", requests=1, tokens=1), "identity"),
        (lambda: store.add_usage(ME, requests=1, tokens=1, at=datetime.now()), "at"),
        (lambda: store.usage_since(ME, datetime.now()), "since"),
    ]
    for call, field in bad:
        with pytest.raises(ValidationError) as err:
            call()
        assert err.value.field == field
    assert store.usage_since(ME, datetime.now(UTC) - timedelta(days=1)) == (0, 0)


# -- failures ----------------------------------------------------------------------------------
def test_an_error_midway_through_an_import_writes_nothing(store: ChatStore) -> None:
    store.create_conversation(ME, "before")
    messages = [NewMessage("user", "q"), NewMessage("assistant", "a"), NewMessage("robot", "?")]
    with pytest.raises(ValidationError) as err:
        store.import_conversation(ME, "half", messages)
    assert err.value.field == "messages[2].role"
    assert [c.title for c in store.list_conversations(ME)] == ["before"]
    assert raw_count(store, "messages") == 0


def test_an_unreachable_database_is_a_short_store_error(postgres_server) -> None:
    url = postgres_server.url("no_such_database")
    with pytest.raises(StoreError) as err:
        ChatStore(url)
    assert "no_such_database" in str(err.value) and "SELECT" not in str(err.value)


def test_postgres_uses_no_server_side_prepared_statements(postgres_server) -> None:
    # a bare postgresql:// URL (as Neon and Supabase hand out) means psycopg 3
    url = postgres_server.new_database().replace("postgresql+psycopg://", "postgresql://")
    with ChatStore(url) as s:
        conv = s.create_conversation(ME)
        answer = s.start_answer(ME, conv.id)
        for i in range(12):  # psycopg would prepare after 5 executions by default
            assert s.update_partial(ME, answer.id, "x" * i)
            s.list_conversations(ME)
        with s.db.read() as conn:  # the same pooled connection that ran them
            prepared = conn.exec_driver_sql("SELECT count(*) FROM pg_prepared_statements")
            assert prepared.scalar_one() == 0


TRIGGERS = {
    "sqlite": [
        "CREATE TRIGGER boom BEFORE INSERT ON messages WHEN NEW.content = 'boom'"
        " BEGIN SELECT RAISE(ABORT, 'boom'); END",
        "CREATE TRIGGER no_delete BEFORE DELETE ON messages WHEN OLD.content = 'keep'"
        " BEGIN SELECT RAISE(ABORT, 'no'); END",
    ],
    "postgresql": [
        "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'refused'; END $$"
        " LANGUAGE plpgsql",
        "CREATE TRIGGER boom BEFORE INSERT ON messages FOR EACH ROW"
        " WHEN (NEW.content = 'boom') EXECUTE FUNCTION refuse()",
        "CREATE TRIGGER no_delete BEFORE DELETE ON messages FOR EACH ROW"
        " WHEN (OLD.content = 'keep') EXECUTE FUNCTION refuse()",
    ],
}


def test_a_database_failure_midway_rolls_back(store: ChatStore) -> None:
    # a real failure inside the database, raised by a trigger on the third insert
    with store.db.write() as conn:
        for statement in TRIGGERS[store.db.dialect]:
            conn.exec_driver_sql(statement)
    messages = [NewMessage("user", "q"), NewMessage("assistant", "a"), NewMessage("user", "boom")]
    with pytest.raises(StoreError) as err:
        store.import_conversation(ME, "half", messages)
    assert "INSERT" not in str(err.value) and "parameters" not in str(err.value)  # no SQL shown
    assert store.list_conversations(ME) == []
    conv = store.create_conversation(ME)
    first = store.add_message(ME, conv.id, "user", "original")
    store.add_message(ME, conv.id, "assistant", "keep")
    with pytest.raises(StoreError):
        store.edit_message(ME, first.id, "edited")  # the update ran, then the delete failed
    got = store.get_conversation(ME, conv.id)
    assert [m.content for m in got.messages] == ["original", "keep"]  # type: ignore[union-attr]
    store.add_message(ME, conv.id, "user", "the store still works")
