"""Migrations: pre-owner SQLite files (v1, v2) keep every chat, under the reserved legacy owner;
v3 databases (SQLite and PostgreSQL) turn every linear chat into a chain of versions."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    insert,
)

from chat_core.errors import StoreError
from chat_core.storage.records import LEGACY_OWNER, SHARED_OWNER
from chat_core.storage.schema import SCHEMA_VERSION, schema_version
from chat_core.storage.store import ChatStore

# The DDL the app shipped before SQLAlchemy and owners, copied here as a fixture: the
# migration must read files made by exactly this, whatever the code becomes.
OLD_V1 = (
    """CREATE TABLE conversations (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        title TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL)""",
    "CREATE INDEX conversations_recent ON conversations (updated_at DESC, id DESC)",
    """CREATE TABLE messages (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        conversation_id INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant')),
        content TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN
            ('streaming', 'complete', 'stopped', 'interrupted', 'error')),
        model TEXT,
        params TEXT NOT NULL DEFAULT '{}',
        metrics TEXT NOT NULL DEFAULT '{}',
        created_at TEXT NOT NULL,
        UNIQUE (conversation_id, position))""",
)
OLD_V2 = (
    "ALTER TABLE messages ADD COLUMN feedback INTEGER NOT NULL DEFAULT 0"
    " CHECK (feedback IN (-1, 0, 1))",
    "CREATE TABLE prefs (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE INDEX messages_streaming ON messages (id) WHERE status = 'streaming'",
)
T = "2025-01-02T03:04:05.000000Z"
VISITORS = ("browser:abc", "user:alice@example.com", SHARED_OWNER)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "chats.sqlite3"


def make_old_file(path: Path, version: int) -> None:
    """A database as release v1 or v2 wrote it, with two chats (one answer left streaming)."""
    conn = sqlite3.connect(path)
    for statement in OLD_V1 + (OLD_V2 if version == 2 else ()):
        conn.execute(statement)
    conn.execute(f"PRAGMA user_version = {version}")
    conn.execute("INSERT INTO conversations VALUES (1, 'old chat', ?, ?)", (T, T))
    conn.execute("INSERT INTO conversations VALUES (2, NULL, ?, ?)", (T, T))
    conn.execute(
        "INSERT INTO messages (id, conversation_id, position, role, content, status, model,"
        " params, metrics, created_at) VALUES"
        " (10, 1, 0, 'user', 'hi', 'complete', NULL, '{}', '{}', ?),"
        " (11, 1, 1, 'assistant', 'hel', 'streaming', 'm', '{\"temperature\":1}', '{}', ?),"
        " (12, 2, 0, 'user', 'second chat', 'complete', NULL, '{}', '{}', ?)",
        (T, T, T),
    )
    if version == 2:
        conn.execute("UPDATE messages SET feedback = -1 WHERE id = 10")
        conn.execute("INSERT INTO prefs VALUES ('last_conversation', '1')")
    conn.commit()
    conn.close()


@pytest.mark.parametrize("version", [1, 2])
def test_an_old_file_keeps_every_chat_under_the_legacy_owner(db_path: Path, version: int) -> None:
    make_old_file(db_path, version)
    with ChatStore(f"sqlite:///{db_path}") as store:
        assert store.migrated_from == version
        for visitor in VISITORS:  # a public app shows the old chats to nobody
            assert store.list_conversations(visitor) == []
            assert store.get_message(visitor, 10) is None
        chats = store.list_conversations(LEGACY_OWNER)
        assert sorted(c.title for c in chats) == ["New chat", "old chat"]
        assert all(len(c.id) >= 22 and not c.id.isdigit() for c in chats)  # no longer guessable
        old = store.get_conversation(
            LEGACY_OWNER, next(c.id for c in chats if c.title != "New chat")
        )
        assert old is not None and (old.created_at, old.updated_at) == (T, T)
        assert [(m.id, m.position, m.content, m.status, m.reasoning) for m in old.messages] == [
            (10, 0, "hi", "complete", ""),
            (11, 1, "hel", "interrupted", ""),  # the dead app's answer, recovered on open
        ]
        assert old.messages[0].feedback == (-1 if version == 2 else 0)
        assert old.messages[1].params == {"temperature": 1} and old.messages[1].model == "m"
        expected_pref = 1 if version == 2 else None
        assert store.get_pref(LEGACY_OWNER, "last_conversation") == expected_pref
        # the migrated file works as a new one: new ids never reuse old message ids
        added = store.add_message(LEGACY_OWNER, old.id, "user", "after the upgrade")
        assert (added.id, added.position) == (13, 2)
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT version FROM schema_version").fetchall() == [(SCHEMA_VERSION,)]
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert not {t for t in tables if t.startswith("v2_")}
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    with ChatStore(f"sqlite:///{db_path}") as again:
        assert again.migrated_from == SCHEMA_VERSION
        assert len(again.list_conversations(LEGACY_OWNER)) == 2


def test_a_failed_migration_changes_nothing(db_path: Path) -> None:
    make_old_file(db_path, 1)
    with sqlite3.connect(db_path) as conn:
        conn.execute("CREATE TABLE usage_ledger (junk TEXT)")  # makes the copy fail half way
    with pytest.raises(StoreError):
        ChatStore(f"sqlite:///{db_path}")
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert {"conversations", "messages"} <= tables and "schema_version" not in tables
        assert conn.execute("SELECT id, title FROM conversations ORDER BY id").fetchall() == [
            (1, "old chat"),
            (2, None),
        ]
        columns = [row[1] for row in conn.execute("PRAGMA table_info(messages)")]
        assert "owner" not in columns and "reasoning" not in columns


def test_refuses_newer_and_foreign_files(db_path: Path, tmp_path: Path) -> None:
    with sqlite3.connect(db_path) as conn:
        conn.execute("PRAGMA user_version = 9")  # a pre-SQLAlchemy file from the future
    with pytest.raises(StoreError, match="newer"):
        ChatStore(f"sqlite:///{db_path}")
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="not usable"):
        ChatStore(f"sqlite:///{junk}")


def test_refuses_a_newer_schema_on_either_database(store_url: str) -> None:
    with ChatStore(store_url) as store, store.db.write() as conn:
        conn.execute(schema_version.delete())
        conn.execute(insert(schema_version).values(version=SCHEMA_VERSION + 1))
    with pytest.raises(StoreError, match="newer than this app"):
        ChatStore(store_url)


# -- v3 -> v4: linear chats become chains ------------------------------------------------------
def v3_metadata() -> MetaData:
    """Today's v3 tables, frozen here: the migration must read databases made by exactly this."""
    md = MetaData()
    Table("schema_version", md, Column("version", Integer, nullable=False))
    Table(
        "conversations",
        md,
        Column("id", String(32), primary_key=True),
        Column("owner", String(200), nullable=False),
        Column("title", Text),
        Column("created_at", String(27), nullable=False),
        Column("updated_at", String(27), nullable=False),
    )
    Table(
        "messages",
        md,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column(
            "conversation_id",
            String(32),
            ForeignKey("conversations.id", ondelete="CASCADE"),
            nullable=False,
        ),
        Column("position", Integer, nullable=False),
        Column("role", String(16), nullable=False),
        Column("content", Text, nullable=False),
        Column("reasoning", Text, nullable=False, server_default=""),
        Column("status", String(16), nullable=False),
        Column("model", Text),
        Column("params", Text, nullable=False, server_default="{}"),
        Column("metrics", Text, nullable=False, server_default="{}"),
        Column("feedback", Integer, nullable=False, server_default="0"),
        Column("created_at", String(27), nullable=False),
        Column("updated_at", String(27), nullable=False),
        UniqueConstraint("conversation_id", "position", name="messages_position"),
        CheckConstraint("role IN ('system', 'user', 'assistant')", name="messages_role"),
        CheckConstraint(
            "status IN ('streaming', 'complete', 'stopped', 'interrupted', 'error', 'refused')",
            name="messages_status",
        ),
        CheckConstraint("feedback IN (-1, 0, 1)", name="messages_feedback"),
        sqlite_autoincrement=True,
    )
    m, c = md.tables["messages"], md.tables["conversations"]
    Index("conversations_by_owner", c.c.owner, c.c.updated_at)
    Index(
        "messages_streaming",
        m.c.updated_at,
        sqlite_where=m.c.status == "streaming",
        postgresql_where=m.c.status == "streaming",
    )
    Table(
        "prefs",
        md,
        Column("owner", String(200), nullable=False),
        Column("key", String(100), nullable=False),
        Column("value", Text, nullable=False),
        PrimaryKeyConstraint("owner", "key"),
    )
    Table(
        "usage_ledger",
        md,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("identity", String(200), nullable=False),
        Column("at", String(27), nullable=False),
        Column("requests", Integer, nullable=False),
        Column("tokens", Integer, nullable=False),
    )
    Index("usage_by_identity", md.tables["usage_ledger"].c.identity, md.tables["usage_ledger"].c.at)
    return md


def make_v3_database(url: str) -> None:
    """A v3 database with two linear chats (positions with a gap, as a truncate leaves them)
    and an empty one."""
    if url.startswith("sqlite"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url)
    md = v3_metadata()
    try:
        with engine.begin() as conn:
            md.create_all(conn)
            t = md.tables
            conn.execute(insert(t["schema_version"]).values(version=3))
            for cid in ("chat-a", "chat-b", "chat-empty"):
                conn.execute(
                    insert(t["conversations"]).values(
                        id=cid, owner="browser:me", title=cid, created_at=T, updated_at=T
                    )
                )
            rows = [
                (1, "chat-a", 0, "user", "q1"),
                (2, "chat-a", 1, "assistant", "a1"),
                (3, "chat-b", 0, "user", "other"),
                (4, "chat-a", 2, "user", "q2"),
                (6, "chat-a", 5, "assistant", "a2"),
            ]
            for mid, cid, position, role, content in rows:
                conn.execute(
                    insert(t["messages"]).values(
                        id=mid,
                        conversation_id=cid,
                        position=position,
                        role=role,
                        content=content,
                        status="complete",
                        created_at=T,
                        updated_at=T,
                    )
                )
            if conn.dialect.name == "postgresql":  # as the app's own inserts leave the sequence
                conn.exec_driver_sql("SELECT setval(pg_get_serial_sequence('messages', 'id'), 6)")
    finally:
        engine.dispose()


def test_v3_linear_chats_become_chains_on_either_database(store_url: str) -> None:
    make_v3_database(store_url)
    with ChatStore(store_url) as store:
        assert store.migrated_from == 3
        a = store.get_conversation("browser:me", "chat-a")
        assert a is not None
        assert [(m.id, m.parent_id, m.content) for m in a.messages] == [
            (1, None, "q1"),
            (2, 1, "a1"),
            (4, 2, "q2"),
            (6, 4, "a2"),
        ]
        assert a.siblings == {} and a.total_messages == 4
        b = store.get_conversation("browser:me", "chat-b")
        assert b is not None and [m.content for m in b.messages] == ["other"]
        empty = store.get_conversation("browser:me", "chat-empty")
        assert empty is not None and empty.messages == ()
        # the migrated chat grows as a tree: a regenerated answer is a sibling
        added = store.add_message("browser:me", "chat-a", "assistant", "a2'", parent_id=4)
        after = store.get_conversation("browser:me", "chat-a")
        assert after is not None and after.siblings[added.id] == (6, added.id)
        assert store.add_message("browser:me", "chat-empty", "user", "hi").parent_id is None
    with ChatStore(store_url) as again:
        assert again.migrated_from == SCHEMA_VERSION


# -- v4 -> v5: the share-link table (issue 25) -----------------------------------------------


def test_a_v4_database_gains_the_share_table(store_url: str) -> None:
    from sqlalchemy import inspect as sa_inspect
    from sqlalchemy import select

    from chat_core.storage.schema import shares

    with ChatStore(store_url) as store, store.db.write() as conn:
        shares.drop(conn)
        conn.execute(schema_version.delete())
        conn.execute(insert(schema_version).values(version=4))
    with ChatStore(store_url) as again:
        assert again.migrated_from == 4
        with again.db.write() as conn:
            assert sa_inspect(conn).has_table("shares")
            assert conn.execute(select(shares)).fetchall() == []


# -- compares: the compare and vote tables (issue 21) ----------------------------------------


def test_a_database_before_compares_gains_their_tables(store_url: str) -> None:
    from sqlalchemy import inspect as sa_inspect
    from sqlalchemy import select

    from chat_core.storage.schema import MIGRATIONS, _add_compares, compares, votes

    before = next(v for v, step in MIGRATIONS.items() if step is _add_compares)
    with ChatStore(store_url) as store, store.db.write() as conn:
        votes.drop(conn)
        compares.drop(conn)
        conn.execute(schema_version.delete())
        conn.execute(insert(schema_version).values(version=before))
    with ChatStore(store_url) as again:
        assert again.migrated_from == before
        with again.db.write() as conn:
            assert sa_inspect(conn).has_table("compares") and sa_inspect(conn).has_table("votes")
            assert conn.execute(select(compares)).fetchall() == []
