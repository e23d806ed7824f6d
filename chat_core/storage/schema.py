"""The tables, and the one migration path that brings any chat database to them.

One schema for SQLite and PostgreSQL, written with SQLAlchemy Core so each
dialect gets its own DDL (``INTEGER PRIMARY KEY AUTOINCREMENT`` on SQLite,
``SERIAL`` on PostgreSQL). The version lives in the ``schema_version`` table:
``migrate`` reads it inside the caller's write transaction, creates a fresh
database at ``SCHEMA_VERSION`` or runs ``MIGRATIONS[v]`` (v -> v + 1) for each
step, and writes the new version; a failure anywhere rolls all of it back.

Versions 1 and 2 predate the version table and SQLAlchemy: SQLite files that
kept their version in ``PRAGMA user_version``, with integer conversation ids
and no owners. ``_from_sqlite_v2`` copies them into the current tables: every
chat is kept, under the reserved owner ``LEGACY_OWNER`` (no visitor can be
it, so an upgraded public app shows old chats to nobody), with a new
unguessable id; message ids, positions, texts and times are kept.

Version 4 makes conversations trees (versions and branches, see ``chat_core.tree``):
``messages.parent_id``, ``conversations.active_leaf`` and ``branch_choices`` (per
fork point, the child last viewed). ``_link_chains`` turns every linear chat into
a chain, each message the child of the one before it, its last message the leaf.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import (
    CheckConstraint,
    Column,
    Connection,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    insert,
    inspect,
    select,
    update,
)

from chat_core.errors import StoreError
from chat_core.storage.records import (
    LEGACY_OWNER,
    MAX_CONVERSATION_ID_CHARS,
    MAX_OWNER_CHARS,
    STATUSES,
    new_conversation_id,
)

SCHEMA_VERSION = 8
_TIME = String(27)  # 2025-01-31T12:00:00.000000Z: text, so every export shows the stored bytes
_ID = String(MAX_CONVERSATION_ID_CHARS)
_OWNER = String(MAX_OWNER_CHARS)
_STATUS_LIST = ", ".join(f"'{s}'" for s in STATUSES)
_MIGRATION_LOCK = 7_331_001  # pg_advisory_xact_lock key: one migrating process at a time

metadata = MetaData()

schema_version = Table("schema_version", metadata, Column("version", Integer, nullable=False))

conversations = Table(
    "conversations",
    metadata,
    Column("id", _ID, primary_key=True),  # random: a URL names one chat and guesses none
    Column("owner", _OWNER, nullable=False),
    Column("title", Text),  # NULL until the first prompt names it
    Column("active_leaf", Integer),  # the message the shown path ends at; NULL when empty
    Column("created_at", _TIME, nullable=False),
    Column("updated_at", _TIME, nullable=False),
)
Index("conversations_by_owner", conversations.c.owner, conversations.c.updated_at)

messages = Table(
    "messages",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),  # never reused
    Column(
        "conversation_id",
        _ID,
        ForeignKey("conversations.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("position", Integer, nullable=False),  # creation order, so siblings sort by it
    # No foreign key: a cascade down a 2,000-message chain passes SQLite's trigger depth
    # limit; the store checks a parent is in the same conversation when it writes one.
    Column("parent_id", Integer),
    Column("role", String(16), nullable=False),
    Column("content", Text, nullable=False),
    Column("reasoning", Text, nullable=False, server_default=""),
    Column("status", String(16), nullable=False),
    Column("model", Text),
    Column("params", Text, nullable=False, server_default="{}"),
    Column("metrics", Text, nullable=False, server_default="{}"),
    Column("feedback", Integer, nullable=False, server_default="0"),
    Column("created_at", _TIME, nullable=False),
    # the heartbeat of a streaming answer: recovery takes only rows whose writer went quiet
    Column("updated_at", _TIME, nullable=False),
    UniqueConstraint("conversation_id", "position", name="messages_position"),
    CheckConstraint("role IN ('system', 'user', 'assistant')", name="messages_role"),
    CheckConstraint(f"status IN ({_STATUS_LIST})", name="messages_status"),
    CheckConstraint("feedback IN (-1, 0, 1)", name="messages_feedback"),
    sqlite_autoincrement=True,
)
Index(
    "messages_streaming",
    messages.c.updated_at,
    sqlite_where=messages.c.status == "streaming",
    postgresql_where=messages.c.status == "streaming",
)

messages_by_parent = Index("messages_by_parent", messages.c.conversation_id, messages.c.parent_id)

branch_choices = Table(  # per fork point, the child last viewed (parent 0: the first prompt)
    "branch_choices",
    metadata,
    Column(
        "conversation_id",
        _ID,
        ForeignKey("conversations.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("parent_id", Integer, nullable=False),
    Column("child_id", Integer, nullable=False),
    PrimaryKeyConstraint("conversation_id", "parent_id"),
)

prefs = Table(
    "prefs",
    metadata,
    Column("owner", _OWNER, nullable=False),
    Column("key", String(100), nullable=False),
    Column("value", Text, nullable=False),
    PrimaryKeyConstraint("owner", "key"),
)

usage = Table(  # the visitor budget's ledger: one row per answer, summed over a window
    "usage_ledger",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("identity", _OWNER, nullable=False),
    Column("at", _TIME, nullable=False),
    Column("requests", Integer, nullable=False),
    Column("tokens", Integer, nullable=False),
)
Index("usage_by_identity", usage.c.identity, usage.c.at)

# Share links (issue 25): a frozen snapshot per link, found by the token's sha256 only.
# No foreign key: deleting a chat revokes its links explicitly (the revoke is the record).
shares = Table(
    "shares",
    metadata,
    Column("token_hash", String(64), primary_key=True),  # sha256 hex; the token is never stored
    Column("owner", _OWNER, nullable=False),
    Column("conversation_id", _ID, nullable=False),
    Column("snapshot", Text, nullable=False),  # JSON: messages of the active path, inert text
    Column("created_at", _TIME, nullable=False),
    Column("updated_at", _TIME, nullable=False),  # "Shared on": the last update's time
    Column("expires_at", _TIME),  # NULL: never
    Column("revoked_at", _TIME),  # NULL: live
)
Index("shares_by_owner", shares.c.owner, shares.c.created_at)
Index("shares_by_conversation", shares.c.conversation_id)

# Attachments (issue 22): a prompt's files beside it, bytes in the database (one backup holds
# the chat whole). The cascade on message_id deletes them with their message or chat.
attachments = Table(
    "attachments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("message_id", Integer, ForeignKey("messages.id", ondelete="CASCADE"), nullable=False),
    Column(
        "conversation_id", _ID, ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False
    ),
    Column("owner", _OWNER, nullable=False),
    Column("position", Integer, nullable=False),  # the order the files were attached in
    Column("name", Text, nullable=False),
    Column("mime", String(100), nullable=False),
    Column("size", Integer, nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("width", Integer),
    Column("height", Integer),
    Column("text", Text),  # a document's extracted (maybe cut) text; NULL for an image
    Column("extracted_chars", Integer, nullable=False, server_default="0"),
    sqlite_autoincrement=True,
)
Index("attachments_by_message", attachments.c.message_id, attachments.c.position)
Index("attachments_by_conversation", attachments.c.conversation_id)


# Compare (issue 21): a compare is a conversation whose prompts have one answer per lane.
# Its row keeps the lanes' settings and, per turn, each lane's (prompt id, answer id);
# deleting the conversation deletes both tables' rows through the cascade.
compares = Table(
    "compares",
    metadata,
    Column(
        "conversation_id",
        _ID,
        ForeignKey("conversations.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("owner", _OWNER, nullable=False),
    Column("lanes", Text, nullable=False),  # JSON: the lanes' settings (LaneSpec.to_dict)
    Column("turns", Text, nullable=False, server_default="[]"),  # JSON: [[[prompt, answer]...]]
    Column("blind", Integer, nullable=False, server_default="0"),
    Column("created_at", _TIME, nullable=False),
    Column("updated_at", _TIME, nullable=False),
)
Index("compares_by_owner", compares.c.owner, compares.c.updated_at)

votes = Table(  # one verdict per compare turn, per owner
    "votes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "conversation_id",
        _ID,
        ForeignKey("conversations.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("owner", _OWNER, nullable=False),
    Column("turn", Integer, nullable=False),
    Column("winner", String(8), nullable=False),  # a lane index, 'tie' or 'bad'
    Column("lane_models", Text, nullable=False),  # JSON list: each lane's model when voted
    Column("created_at", _TIME, nullable=False),
    UniqueConstraint("conversation_id", "turn", name="votes_once_per_turn"),
    sqlite_autoincrement=True,
)
Index("votes_by_owner", votes.c.owner)

# Tool calls (issue 24): the calls an answer made, in order, each with the result typed for
# it (NULL until answered). Keyed by the answer's message id; deleting it deletes its calls.
tool_calls = Table(
    "tool_calls",
    metadata,
    Column("message_id", Integer, ForeignKey("messages.id", ondelete="CASCADE"), nullable=False),
    Column("position", Integer, nullable=False),  # the call's place in the answer
    Column("call_id", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("arguments", Text, nullable=False),
    Column("result", Text),  # NULL: not answered yet
    Column("is_error", Integer, nullable=False, server_default="0"),
    Column("answered_at", _TIME),
    PrimaryKeyConstraint("message_id", "position", name="tool_calls_key"),
)


# MIGRATIONS[v] takes a database from v to v + 1 (v >= SCHEMA_VERSION when added); the same
# step runs on every dialect, so write it with SQLAlchemy constructs, not dialect SQL.
def _to_trees(conn: Connection) -> None:
    """v3 -> v4: parents, active leaves and fork choices; every linear chat becomes a chain."""
    conn.exec_driver_sql("ALTER TABLE messages ADD COLUMN parent_id INTEGER")
    conn.exec_driver_sql("ALTER TABLE conversations ADD COLUMN active_leaf INTEGER")
    messages_by_parent.create(conn)
    branch_choices.create(conn)
    _link_chains(conn)


def _link_chains(conn: Connection) -> None:
    """Each message the child of the one before it (by position); the last one the leaf."""
    before = messages.alias("before")
    previous = (
        select(before.c.id)
        .where(
            before.c.conversation_id == messages.c.conversation_id,
            before.c.position < messages.c.position,
        )
        .order_by(before.c.position.desc())
        .limit(1)
        .scalar_subquery()
    )
    conn.execute(update(messages).values(parent_id=previous))
    last = (
        select(messages.c.id)
        .where(messages.c.conversation_id == conversations.c.id)
        .order_by(messages.c.position.desc())
        .limit(1)
        .scalar_subquery()
    )
    conn.execute(update(conversations).values(active_leaf=last))


def _add_shares(conn: Connection) -> None:
    """v4 -> v5: the share-link table only (self-contained, so it can be renumbered)."""
    shares.create(conn)


def _add_compares(conn: Connection) -> None:
    """v6 -> v7: the compare and vote tables only (self-contained, so it can be renumbered;
    ``checkfirst``: a test that rewinds the version over a newer database keeps working)."""
    compares.create(conn, checkfirst=True)
    votes.create(conn, checkfirst=True)


def _add_attachments(conn: Connection) -> None:
    """v5 -> v6: the attachments table only (self-contained, so it can be renumbered)."""
    attachments.create(conn, checkfirst=True)  # a test may have rewound only the version


def _add_tool_calls(conn: Connection) -> None:
    """v7 -> v8: the tool-call table only (self-contained, so it can be renumbered)."""
    tool_calls.create(conn, checkfirst=True)  # a later step may find it made by a newer one


MIGRATIONS: dict[int, Callable[[Connection], None]] = {
    3: _to_trees,
    4: _add_shares,
    5: _add_attachments,
    6: _add_compares,
    7: _add_tool_calls,
}


def current_version(conn: Connection) -> int:
    """The schema version found: 0 for an empty database, 1-2 for a pre-SQLAlchemy file."""
    if inspect(conn).has_table("schema_version"):
        found = conn.execute(select(func.max(schema_version.c.version))).scalar()
        return int(found or 0)
    if conn.dialect.name == "sqlite":
        return int(conn.exec_driver_sql("PRAGMA user_version").scalar() or 0)
    return 0


def migrate(conn: Connection) -> int:
    """Bring the database to SCHEMA_VERSION in the caller's transaction; returns the old version."""
    if conn.dialect.name == "postgresql":
        # two processes starting at once: the second waits here, then finds the work done
        conn.execute(select(func.pg_advisory_xact_lock(_MIGRATION_LOCK)))
    found = current_version(conn)
    if found > SCHEMA_VERSION:
        raise StoreError(
            f"the chat database is schema v{found}, newer than this app (v{SCHEMA_VERSION})"
        )
    if found == SCHEMA_VERSION:
        return found
    steps_from = found
    if found == 0:
        metadata.create_all(conn, checkfirst=False)  # a foreign table of the same name fails
        steps_from = SCHEMA_VERSION
    elif found < 3:
        _from_sqlite_v2(conn, found)  # creates today's tables: no step below applies
        steps_from = SCHEMA_VERSION
    for version in range(steps_from, SCHEMA_VERSION):
        MIGRATIONS[version](conn)
    conn.execute(schema_version.delete())
    conn.execute(insert(schema_version).values(version=SCHEMA_VERSION))
    return found


def _from_sqlite_v2(conn: Connection, found: int) -> None:
    """Copy a v1/v2 SQLite file's chats into the current tables, all under LEGACY_OWNER."""
    sql = conn.exec_driver_sql
    for index in ("conversations_recent", "messages_streaming"):
        sql(f"DROP INDEX IF EXISTS {index}")  # their names are the new tables' now
    sql("ALTER TABLE messages RENAME TO v2_messages")
    sql("ALTER TABLE conversations RENAME TO v2_conversations")
    old_prefs = found >= 2 and inspect(conn).has_table("prefs")
    if old_prefs:
        sql("ALTER TABLE prefs RENAME TO v2_prefs")
    metadata.create_all(conn, checkfirst=False)
    ids: dict[int, str] = {}
    for row in sql("SELECT id, title, created_at, updated_at FROM v2_conversations").mappings():
        ids[row["id"]] = new_conversation_id()
        conn.execute(
            insert(conversations).values(
                id=ids[row["id"]],
                owner=LEGACY_OWNER,
                title=row["title"],
                created_at=row["created_at"],
                updated_at=row["updated_at"],
            )
        )
    feedback = "feedback" if found >= 2 else "0"
    rows = sql(
        "SELECT id, conversation_id, position, role, content, status, model, params, metrics,"
        f" {feedback} AS feedback, created_at FROM v2_messages ORDER BY id"
    ).mappings()
    while batch := rows.fetchmany(500):
        conn.execute(
            insert(messages),
            [
                dict(row, conversation_id=ids[row["conversation_id"]], updated_at=row["created_at"])
                for row in batch
            ],
        )
    if old_prefs:
        sql(
            "INSERT INTO prefs (owner, key, value)"
            f" SELECT '{LEGACY_OWNER}', key, value FROM v2_prefs"
        )
        sql("DROP TABLE v2_prefs")
    _link_chains(conn)
    sql("DROP TABLE v2_messages")
    sql("DROP TABLE v2_conversations")
    sql("PRAGMA user_version = 0")  # the version table speaks from now on
