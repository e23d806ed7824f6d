"""The SQLite store: CRUD, ordering, migrations, transactions, crashes and concurrent writers."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from chat_core.errors import LimitError, ValidationError
from chat_core.messages import MAX_MESSAGE_CHARS
from chat_core.settings import Settings
from chat_core.storage.records import (
    DEFAULT_TITLE,
    MAX_ANSWER_CHARS,
    MAX_MESSAGES_PER_CONVERSATION,
    NewMessage,
    title_from_prompt,
)
from chat_core.storage.store import (
    MIGRATIONS,
    SCHEMA_VERSION,
    ChatStore,
    NotFoundError,
    StoreError,
    open_store,
)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "chats.sqlite3"


@pytest.fixture
def store(db_path: Path):
    with ChatStore(db_path) as s:
        yield s


def raw_count(path: Path, table: str) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


# -- create, list, rename, delete ---------------------------------------------------------------
def test_open_store_creates_parent_dirs_from_settings(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "chats.sqlite3"
    with open_store(Settings(db_path=str(path))) as s:
        assert s.list_conversations() == []
    assert path.is_file()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_create_then_first_prompt_titles_the_conversation(store: ChatStore) -> None:
    conv = store.create_conversation()
    assert (conv.title, conv.message_count) == (DEFAULT_TITLE, 0)
    store.add_message(conv.id, "user", "/lorem 40\n  How do   tides work?")
    store.add_message(conv.id, "user", "A second prompt does not rename it")
    got = store.get_conversation(conv.id)
    assert got is not None
    assert got.title == "How do tides work?"
    assert [m.position for m in got.messages] == [0, 1]
    assert got.messages[0].content == "/lorem 40\n  How do   tides work?"  # stored verbatim


def test_explicit_title_is_kept(store: ChatStore) -> None:
    conv = store.create_conversation("  My   plan ")
    store.add_message(conv.id, "user", "hello")
    assert store.list_conversations()[0].title == "My plan"


def test_title_from_prompt_is_short_and_cut_at_a_word() -> None:
    long = "Explain the difference between threads and processes in Python with examples"
    title = title_from_prompt(long)
    assert title.endswith("…") and len(title) <= 48
    assert long.startswith(title[:-1])
    assert title[:-1] == title[:-1].rstrip()
    assert title_from_prompt("   ") == DEFAULT_TITLE
    assert title_from_prompt("/lorem 5") == "/lorem 5"  # only directives: keep them


def test_list_is_most_recent_first(store: ChatStore) -> None:
    a = store.create_conversation("a")
    b = store.create_conversation("b")
    c = store.create_conversation("c")
    assert [x.title for x in store.list_conversations()] == ["c", "b", "a"]
    store.add_message(a.id, "user", "bump a")
    assert [x.title for x in store.list_conversations()] == ["a", "c", "b"]
    store.rename(b.id, "b renamed")  # renaming is not activity
    msg = store.add_message(c.id, "user", "bump c")
    assert [x.title for x in store.list_conversations()] == ["c", "a", "b renamed"]
    store.update_message(msg.id, feedback=1)  # nor is feedback
    assert [x.id for x in store.list_conversations()] == [c.id, a.id, b.id]
    assert [x.message_count for x in store.list_conversations()] == [1, 1, 0]


def test_rename_validates_and_normalizes(store: ChatStore) -> None:
    conv = store.create_conversation()
    store.rename(conv.id, " Trip\nnotes ")
    assert store.list_conversations()[0].title == "Trip notes"
    with pytest.raises(ValidationError) as err:
        store.rename(conv.id, "   ")
    assert err.value.field == "title"
    with pytest.raises(LimitError):
        store.rename(conv.id, "x" * 201)
    with pytest.raises(NotFoundError):
        store.rename(conv.id + 100, "nobody")


def test_delete_removes_messages_and_ids_are_not_reused(store: ChatStore, db_path: Path) -> None:
    conv = store.create_conversation()
    store.add_message(conv.id, "user", "hi")
    store.add_message(conv.id, "assistant", "hello")
    assert store.delete(conv.id) is True
    assert store.get_conversation(conv.id) is None
    assert raw_count(db_path, "messages") == 0
    assert store.delete(conv.id) is False
    assert store.create_conversation().id > conv.id  # a stale link never opens another chat


# -- messages ------------------------------------------------------------------------------------
def test_streaming_answer_grows_then_is_finalized(store: ChatStore) -> None:
    conv = store.create_conversation()
    store.add_message(conv.id, "user", "hi")
    answer = store.start_answer(conv.id, model="gpt-4o-mini", params={"temperature": 0.2})
    assert (answer.status, answer.content, answer.position) == ("streaming", "", 1)
    assert store.update_partial(answer.id, "Hel") is True
    assert store.get_message(answer.id).content == "Hel"  # type: ignore[union-attr]
    done = store.finish_message(
        answer.id, "Hello", status="stopped", metrics={"tokens": 2, "prompt_tokens": 5}
    )
    assert (done.content, done.status, done.metrics["tokens"]) == ("Hello", "stopped", 2)
    assert done.params == {"temperature": 0.2} and done.model == "gpt-4o-mini"
    # a late partial from another thread must not overwrite the final text
    assert store.update_partial(answer.id, "He") is False
    assert store.get_message(answer.id).content == "Hello"  # type: ignore[union-attr]
    with pytest.raises(ValidationError):
        store.finish_message(answer.id, status="streaming")


def test_history_has_text_only(store: ChatStore) -> None:
    conv = store.create_conversation()
    store.add_message(conv.id, "user", "q1")
    store.add_message(conv.id, "assistant", "", status="error")
    store.add_message(conv.id, "user", "q2")
    store.add_message(conv.id, "assistant", "partial", status="stopped")
    history = store.get_conversation(conv.id).history()  # type: ignore[union-attr]
    assert [(m.role, m.content) for m in history] == [
        ("user", "q1"),
        ("user", "q2"),
        ("assistant", "partial"),
    ]


def test_regenerate_and_edit_replace_later_turns(store: ChatStore) -> None:
    conv = store.create_conversation()
    q1 = store.add_message(conv.id, "user", "q1")
    store.add_message(conv.id, "assistant", "a1")
    q2 = store.add_message(conv.id, "user", "q2")
    store.add_message(conv.id, "assistant", "a2")
    # regenerate the last answer: drop it, a new one takes its position
    assert store.truncate_after(conv.id, q2.position) == 1
    again = store.start_answer(conv.id)
    assert again.position == 3
    # edit the first prompt and resend: everything after it goes
    edited = store.edit_message(q1.id, "q1, better")
    assert edited.content == "q1, better"
    got = store.get_conversation(conv.id)
    assert [(m.role, m.content) for m in got.messages] == [("user", "q1, better")]  # type: ignore[union-attr]
    assert store.add_message(conv.id, "assistant", "a1'").position == 1
    with pytest.raises(ValidationError):
        store.truncate_after(conv.id, -2)


def test_feedback_and_validation(store: ChatStore) -> None:
    conv = store.create_conversation()
    msg = store.add_message(conv.id, "assistant", "answer")
    assert store.update_message(msg.id, feedback=-1).feedback == -1
    assert store.update_message(msg.id, feedback=0).feedback == 0
    bad_calls = [
        (lambda: store.update_message(msg.id, feedback=2), "feedback"),
        (lambda: store.update_message(msg.id, feedback=True), "feedback"),
        (lambda: store.update_message(msg.id, status="done"), "status"),
        (lambda: store.add_message(conv.id, "tool", "x"), "role"),
        (lambda: store.add_message(conv.id, "user", "   "), "content"),
        (lambda: store.add_message(conv.id, "user", 5), "content"),  # type: ignore[arg-type]
        (lambda: store.add_message(conv.id, "user", "x", params={"a": {"b": 1}}), "params.a"),
        (lambda: store.add_message(conv.id, "user", "x", metrics={"t": float("nan")}), "metrics.t"),
        (lambda: store.add_message(conv.id, "user", "x", model=""), "model"),
        (lambda: store.add_message(conv.id, "user", "\ud800"), "content"),
        (lambda: store.update_message("1", feedback=1), "id"),  # type: ignore[arg-type]
    ]
    for call, field in bad_calls:
        with pytest.raises(ValidationError) as err:
            call()
        assert err.value.field == field
    with pytest.raises(NotFoundError):
        store.update_message(msg.id + 100, feedback=1)
    assert store.get_conversation(conv.id).messages[0].feedback == 0  # type: ignore[union-attr]


def test_limits_reuse_the_message_limits(store: ChatStore) -> None:
    conv = store.create_conversation()
    with pytest.raises(LimitError):
        store.add_message(conv.id, "user", "x" * (MAX_MESSAGE_CHARS + 1))
    answer = store.start_answer(conv.id)
    assert store.update_partial(answer.id, "x" * MAX_MESSAGE_CHARS * 2)  # answers may be longer
    with pytest.raises(LimitError):
        store.update_partial(answer.id, "x" * (MAX_ANSWER_CHARS + 1))
    full = [NewMessage("user", "q")] * (MAX_MESSAGES_PER_CONVERSATION - 1)
    big = store.import_conversation("big", full)
    store.add_message(big.id, "assistant", "the last one that fits")
    with pytest.raises(LimitError):
        store.add_message(big.id, "user", "one too many")


def test_prefs_round_trip(store: ChatStore) -> None:
    assert store.get_pref("last_conversation", 0) == 0
    store.set_pref("last_conversation", 7)
    store.set_pref("last_conversation", {"id": 8, "tab": "chat"})
    assert store.get_pref("last_conversation") == {"id": 8, "tab": "chat"}
    with pytest.raises(ValidationError):
        store.set_pref("x", object())
    with pytest.raises(LimitError):
        store.set_pref("x", "y" * 200_000)


# -- recovery and migrations ---------------------------------------------------------------------
def test_reopen_marks_streaming_rows_interrupted(db_path: Path) -> None:
    with ChatStore(db_path) as first:
        conv = first.create_conversation()
        first.add_message(conv.id, "user", "hi")
        answer = first.start_answer(conv.id)
        first.update_partial(answer.id, "half an ans")
    with ChatStore(db_path) as second:
        assert second.interrupted_on_open == 1
        msg = second.get_message(answer.id)
        assert msg is not None and (msg.status, msg.content) == ("interrupted", "half an ans")
    with ChatStore(db_path) as third:
        assert third.interrupted_on_open == 0


def make_v1_file(path: Path) -> None:
    """A database as the first release wrote it: schema v1, no feedback column."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    for statement in MIGRATIONS[0]:
        conn.execute(statement)
    conn.execute("PRAGMA user_version = 1")
    t = "2025-01-02T03:04:05.000000Z"
    conn.execute("INSERT INTO conversations VALUES (1, 'old chat', ?, ?)", (t, t))
    conn.execute(
        "INSERT INTO messages (conversation_id, position, role, content, status, model, params,"
        " metrics, created_at) VALUES (1, 0, 'user', 'hi', 'complete', NULL, '{}', '{}', ?),"
        " (1, 1, 'assistant', 'hel', 'streaming', 'm', '{\"temperature\":1}', '{}', ?)",
        (t, t),
    )
    conn.commit()
    conn.close()


def test_migrates_a_v1_file(db_path: Path) -> None:
    make_v1_file(db_path)
    with ChatStore(db_path) as store:
        assert store.migrated_from == 1
        conv = store.get_conversation(1)
        assert conv is not None and conv.title == "old chat"
        assert [(m.content, m.status, m.feedback) for m in conv.messages] == [
            ("hi", "complete", 0),
            ("hel", "interrupted", 0),
        ]
        assert conv.messages[1].params == {"temperature": 1}
        assert store.update_message(conv.messages[1].id, feedback=1).feedback == 1
        store.set_pref("k", "v")  # the v2 table exists
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 2
    with ChatStore(db_path) as again:
        assert again.migrated_from == SCHEMA_VERSION


def test_failed_migration_changes_nothing(db_path: Path) -> None:
    make_v1_file(db_path)
    with sqlite3.connect(db_path) as conn:
        conn.execute("CREATE TABLE prefs (junk TEXT)")  # makes the v2 step fail half way
    with pytest.raises(StoreError):
        ChatStore(db_path)
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
        columns = [row[1] for row in conn.execute("PRAGMA table_info(messages)")]
        assert "feedback" not in columns  # the ALTER before the failure was rolled back


def test_refuses_newer_and_foreign_files(db_path: Path, tmp_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    with sqlite3.connect(db_path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StoreError, match="newer"):
        ChatStore(db_path)
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="not a usable"):
        ChatStore(junk)


# -- transactions interrupted midway ------------------------------------------------------------
def test_an_error_midway_through_an_import_writes_nothing(store: ChatStore, db_path: Path) -> None:
    store.create_conversation("before")
    messages = [NewMessage("user", "q"), NewMessage("assistant", "a"), NewMessage("robot", "?")]
    with pytest.raises(ValidationError) as err:
        store.import_conversation("half", messages)
    assert err.value.field == "messages[2].role"
    assert [c.title for c in store.list_conversations()] == ["before"]
    assert raw_count(db_path, "messages") == 0


def test_a_database_failure_midway_rolls_back(store: ChatStore, db_path: Path) -> None:
    # a real failure inside SQLite, raised by a trigger on the third insert
    with sqlite3.connect(db_path) as conn:
        conn.execute(
            "CREATE TRIGGER boom BEFORE INSERT ON messages WHEN NEW.content = 'boom'"
            " BEGIN SELECT RAISE(ABORT, 'boom'); END"
        )
        conn.execute(
            "CREATE TRIGGER no_delete BEFORE DELETE ON messages WHEN OLD.content = 'keep'"
            " BEGIN SELECT RAISE(ABORT, 'no'); END"
        )
    messages = [NewMessage("user", "q"), NewMessage("assistant", "a"), NewMessage("user", "boom")]
    with pytest.raises(StoreError):
        store.import_conversation("half", messages)
    assert store.list_conversations() == []
    conv = store.create_conversation()
    first = store.add_message(conv.id, "user", "original")
    store.add_message(conv.id, "assistant", "keep")
    with pytest.raises(StoreError):
        store.edit_message(first.id, "edited")  # the update ran, then the delete failed
    got = store.get_conversation(conv.id)
    assert [m.content for m in got.messages] == ["original", "keep"]  # type: ignore[union-attr]
    store.add_message(conv.id, "user", "the store still works")


CHILD = textwrap.dedent(
    """
    import sys
    from chat_core.storage.store import ChatStore, NewMessage

    store = ChatStore(sys.argv[1])
    conv = store.create_conversation("killed")
    store.add_message(conv.id, "user", "tell me a long story")
    answer = store.start_answer(conv.id, model="offline-scripted")
    bulk = [NewMessage("user" if k % 2 == 0 else "assistant", f"m{k}") for k in range(300)]
    text = ""
    i = 0
    while True:
        i += 1
        text += f"w{i} "
        store.update_partial(answer.id, text)
        print(i, flush=True)
        store.import_conversation("bulk", bulk)
    """
)


def test_sigkill_mid_answer_leaves_a_readable_db(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(db_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    last = 0
    try:
        assert child.stdout is not None
        for line in child.stdout:
            last = int(line)
            if last >= 20:
                break
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.wait(timeout=30)
        child.stdout.close()  # type: ignore[union-attr]
        child.stderr.close()  # type: ignore[union-attr]
    assert last >= 20, "the child did not start"
    assert child.returncode == -signal.SIGKILL
    with ChatStore(db_path) as store:
        assert store.interrupted_on_open == 1
        killed = store.get_conversation(1)
        assert killed is not None and killed.title == "killed"
        answer = killed.messages[1]
        assert answer.status == "interrupted"
        words = answer.content.split()
        assert len(words) >= last  # every printed partial was committed
        assert words == [f"w{k}" for k in range(1, len(words) + 1)]  # a prefix, not garbage
        bulk = [c for c in store.list_conversations() if c.title == "bulk"]
        assert len(bulk) >= last - 1
        assert {c.message_count for c in bulk} == {300}  # each import all or nothing
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


# -- concurrent writers ---------------------------------------------------------------------------
def run_writers(
    make_store, shared: int, *, own_store: bool, rounds: int = 60
) -> list[BaseException]:
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def writer(name: str) -> None:
        try:
            store = make_store()
            own = store.create_conversation(name).id
            barrier.wait(timeout=10)
            for i in range(rounds):
                store.add_message(shared, "user", f"{name} {i}")
                answer = store.start_answer(own)
                store.update_partial(answer.id, "x" * i)
                store.finish_message(answer.id, f"{name} done {i}", status="complete")
            if own_store:
                store.close()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in ("left", "right")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return errors


@pytest.mark.parametrize("mode", ["one store per thread", "one shared store"])
def test_two_threads_write_concurrently(db_path: Path, mode: str) -> None:
    with ChatStore(db_path) as main:
        shared = main.create_conversation("shared").id
        if mode == "one shared store":
            errors = run_writers(lambda: main, shared, own_store=False)
        else:
            errors = run_writers(lambda: ChatStore(db_path), shared, own_store=True)
        assert errors == []
        conv = main.get_conversation(shared)
        assert conv is not None
        assert [m.position for m in conv.messages] == list(range(120))
        for name in ("left", "right"):
            mine = [m.content for m in conv.messages if m.content.startswith(name)]
            assert mine == [f"{name} {i}" for i in range(60)]
        for summary in main.list_conversations():
            if summary.title in ("left", "right"):
                answers = main.get_conversation(summary.id).messages  # type: ignore[union-attr]
                assert {m.status for m in answers} == {"complete"} and len(answers) == 60
