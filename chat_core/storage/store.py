"""SQLite persistence of conversations and their messages (issue 9).

Open one ``ChatStore`` per process and share it (in the app, from a function
decorated with ``st.cache_resource``): it holds one connection behind a lock,
so any thread may call it. Other processes on the same file are fine too: WAL
mode lets readers run beside a writer, and a busy timeout makes writers queue.

    store = open_store(settings)                   # mkdir, migrate, recover
    conv = store.create_conversation()             # titled from the first prompt
    store.add_message(conv.id, "user", prompt)
    answer = store.start_answer(conv.id, model=model, params={"temperature": 0.7})
    store.update_partial(answer.id, text_so_far)   # one cheap UPDATE; a few per second
    store.finish_message(answer.id, text, status="complete", metrics=m.to_dict())
    store.get_conversation(conv.id).history()      # ChatMessages to send back to the model

Regenerate the last answer: ``truncate_after(conv.id, last_user.position)``,
then start a new answer. Edit a user message and resend: ``edit_message(id,
text)`` (replaces the text and deletes every later message), then start one.
Thumbs: ``update_message(id, feedback=1)``. Missing ids raise ``NotFoundError``,
bad input ``ValidationError``/``LimitError`` naming the field, database failures
``StoreError``.

Crash safety: each multi-step write is one ``BEGIN IMMEDIATE`` transaction, so
a killed process leaves all of it or none. An answer being streamed is a row
with status ``streaming``; on open, rows that a dead process left ``streaming``
become ``interrupted`` with their partial text kept (``interrupted_on_open``
counts them). That assumes one app process per database file.

Schema version: ``PRAGMA user_version``; ``MIGRATIONS[v]`` takes a file from v to
v + 1, applied on open in one transaction. The records returned and the field
checks live in ``records.py``. Every browser session of an app shares the file:
this is a store for demos, not a per-user one.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

from chat_core.errors import ChatError, LimitError, ValidationError
from chat_core.settings import Settings, load_settings
from chat_core.storage.records import (
    DEFAULT_TITLE,
    FINAL_STATUSES,
    MAX_MESSAGES_PER_CONVERSATION,
    TIME_FORMAT,
    ConversationSummary,
    NewMessage,
    StoredConversation,
    StoredMessage,
    check_content,
    check_feedback,
    check_flat_object,
    check_model,
    check_role,
    check_status,
    check_time,
    check_title,
    dumps_flat,
    now_text,
    title_from_prompt,
)

MAX_PREF_CHARS = 100_000

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (  # v0 -> v1: conversations and their messages
        """CREATE TABLE conversations (
            id INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: a stale URL opens no other chat
            title TEXT,                            -- NULL until the first prompt names it
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
    ),
    (  # v1 -> v2: thumbs feedback, app preferences, and a partial index for recovery on open
        "ALTER TABLE messages ADD COLUMN feedback INTEGER NOT NULL DEFAULT 0"
        " CHECK (feedback IN (-1, 0, 1))",
        "CREATE TABLE prefs (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        "CREATE INDEX messages_streaming ON messages (id) WHERE status = 'streaming'",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)


class StoreError(ChatError):
    """The database failed: not a chat database, from a newer app, locked too long, disk full."""


class NotFoundError(ValidationError):
    """No conversation or message with that id (deleted, perhaps in another tab)."""


def _message(row: sqlite3.Row) -> StoredMessage:
    return StoredMessage(
        id=row["id"],
        conversation_id=row["conversation_id"],
        position=row["position"],
        role=row["role"],
        content=row["content"],
        status=row["status"],
        model=row["model"],
        params=json.loads(row["params"]),
        metrics=json.loads(row["metrics"]),
        feedback=row["feedback"],
        created_at=row["created_at"],
    )


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the file to SCHEMA_VERSION in one transaction; returns the version found."""
    found = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if found == SCHEMA_VERSION:
        return found
    conn.execute("BEGIN IMMEDIATE")
    try:
        # read again under the write lock: another process may have migrated meanwhile
        found = int(conn.execute("PRAGMA user_version").fetchone()[0])
        if found > SCHEMA_VERSION:
            raise StoreError(
                f"the chat database is schema v{found}, newer than this app (v{SCHEMA_VERSION})"
            )
        for version in range(found, SCHEMA_VERSION):
            for statement in MIGRATIONS[version]:
                conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        conn.rollback()
        raise
    return found


class ChatStore:
    """Conversations and messages in one SQLite file; thread-safe, see the module docstring."""

    def __init__(self, path: str | Path, *, busy_timeout_s: float = 10.0, recover: bool = True):
        self.path = Path(path)
        self._lock = threading.RLock()
        self._last_time = ""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(
                self.path, timeout=busy_timeout_s, isolation_level=None, check_same_thread=False
            )
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open the chat database {self.path}: {exc}") from exc
        self._conn.row_factory = sqlite3.Row
        try:
            self._conn.execute("PRAGMA journal_mode = WAL")
            # NORMAL is safe from corruption in WAL mode; a power cut may lose the last commits
            self._conn.execute("PRAGMA synchronous = NORMAL")
            self._conn.execute("PRAGMA foreign_keys = ON")
            self.migrated_from = migrate(self._conn)
            self.interrupted_on_open = self._recover() if recover else 0
        except sqlite3.DatabaseError as exc:
            self._conn.close()
            raise StoreError(f"{self.path} is not a usable chat database: {exc}") from exc
        except BaseException:
            self._conn.close()
            raise

    # -- plumbing ------------------------------------------------------------------------------
    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> ChatStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One transaction: all of the block's writes or none of them."""
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")  # take the write lock now, not mid-way
            except sqlite3.Error as exc:
                raise StoreError(f"the chat database is busy or unavailable: {exc}") from exc
            try:
                yield self._conn
                self._conn.execute("COMMIT")
            except sqlite3.Error as exc:
                self._conn.rollback()
                raise StoreError(f"the chat database refused a write: {exc}") from exc
            except BaseException:
                self._conn.rollback()
                raise

    @contextlib.contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        """One read snapshot, so a conversation and its messages agree."""
        with self._lock:
            try:
                self._conn.execute("BEGIN")
                try:
                    yield self._conn
                finally:
                    self._conn.execute("COMMIT")
            except sqlite3.Error as exc:
                raise StoreError(f"the chat database could not be read: {exc}") from exc

    def _now(self) -> str:
        """The current time, strictly after the last one handed out, so ordering is total."""
        with self._lock:
            now = now_text()
            if now <= self._last_time:
                last = datetime.strptime(self._last_time, TIME_FORMAT)
                now = (last + timedelta(microseconds=1)).strftime(TIME_FORMAT)
            self._last_time = now
            return now

    def _recover(self) -> int:
        with self._write() as db:
            cur = db.execute(
                "UPDATE messages SET status = 'interrupted' WHERE status = 'streaming'"
            )
            return cur.rowcount

    @staticmethod
    def _conversation_row(db: sqlite3.Connection, conversation_id: int) -> sqlite3.Row:
        row = db.execute(
            "SELECT * FROM conversations WHERE id = ?", (_check_id(conversation_id),)
        ).fetchone()
        if row is None:
            raise NotFoundError("conversation_id", "no such conversation")
        return cast(sqlite3.Row, row)

    @staticmethod
    def _message_row(db: sqlite3.Connection, message_id: int) -> sqlite3.Row:
        row = db.execute("SELECT * FROM messages WHERE id = ?", (_check_id(message_id),)).fetchone()
        if row is None:
            raise NotFoundError("message_id", "no such message")
        return cast(sqlite3.Row, row)

    # -- conversations -------------------------------------------------------------------------
    def create_conversation(self, title: str | None = None) -> ConversationSummary:
        """A new, empty conversation; untitled ones take their first prompt as title."""
        clean = None if title is None else check_title(title)
        now = self._now()
        with self._write() as db:
            cur = db.execute(
                "INSERT INTO conversations (title, created_at, updated_at) VALUES (?, ?, ?)",
                (clean, now, now),
            )
        return ConversationSummary(cast(int, cur.lastrowid), clean or DEFAULT_TITLE, now, now, 0)

    def list_conversations(self, limit: int = 500) -> list[ConversationSummary]:
        """Conversations, most recently updated first."""
        with self._read() as db:
            rows = db.execute(
                "SELECT c.*, (SELECT count(*) FROM messages m WHERE m.conversation_id = c.id) AS n"
                " FROM conversations c ORDER BY c.updated_at DESC, c.id DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [
            ConversationSummary(
                r["id"], r["title"] or DEFAULT_TITLE, r["created_at"], r["updated_at"], r["n"]
            )
            for r in rows
        ]

    def get_conversation(self, conversation_id: int) -> StoredConversation | None:
        """A conversation and its messages, or None when there is no such conversation."""
        with self._read() as db:
            try:
                conv = self._conversation_row(db, conversation_id)
            except NotFoundError:
                return None
            rows = db.execute(
                "SELECT * FROM messages WHERE conversation_id = ? ORDER BY position",
                (conv["id"],),
            ).fetchall()
        return StoredConversation(
            conv["id"],
            conv["title"] or DEFAULT_TITLE,
            conv["created_at"],
            conv["updated_at"],
            tuple(_message(r) for r in rows),
        )

    def rename(self, conversation_id: int, title: str) -> None:
        """Set a conversation's title (not counted as activity: the list order stays)."""
        clean = check_title(title)
        with self._write() as db:
            self._conversation_row(db, conversation_id)
            db.execute("UPDATE conversations SET title = ? WHERE id = ?", (clean, conversation_id))

    def delete(self, conversation_id: int) -> bool:
        """Delete a conversation and its messages; False when it did not exist."""
        with self._write() as db:
            cur = db.execute(
                "DELETE FROM conversations WHERE id = ?", (_check_id(conversation_id),)
            )
        return cur.rowcount == 1

    # -- messages ------------------------------------------------------------------------------
    def add_message(
        self,
        conversation_id: int,
        role: str,
        content: str,
        *,
        status: str = "complete",
        model: str | None = None,
        params: Mapping[str, Any] | None = None,
        metrics: Mapping[str, Any] | None = None,
    ) -> StoredMessage:
        """Append a message; the first user message titles an untitled conversation."""
        new = NewMessage(role, content, status, model, params or {}, metrics or {})
        with self._write() as db:
            conv = self._conversation_row(db, conversation_id)
            message_id = self._insert(db, conv["id"], new, self._now(), "")
            if conv["title"] is None and role == "user":
                db.execute(
                    "UPDATE conversations SET title = ? WHERE id = ?",
                    (title_from_prompt(content), conv["id"]),
                )
            return _message(self._message_row(db, message_id))

    def start_answer(
        self,
        conversation_id: int,
        *,
        model: str | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> StoredMessage:
        """An empty assistant message with status ``streaming``, to grow with ``update_partial``."""
        return self.add_message(
            conversation_id, "assistant", "", status="streaming", model=model, params=params
        )

    def update_partial(self, message_id: int, content: str) -> bool:
        """Store the text so far of a streaming answer: one UPDATE by primary key.

        False (and nothing written) when the message is no longer streaming, so a
        late partial never overwrites a finished answer.
        """
        check_content("assistant", content, "content")
        with self._lock:
            try:
                cur = self._conn.execute(
                    "UPDATE messages SET content = ? WHERE id = ? AND status = 'streaming'",
                    (content, _check_id(message_id)),
                )
            except sqlite3.Error as exc:
                raise StoreError(f"the chat database refused a write: {exc}") from exc
        return cur.rowcount == 1

    def finish_message(
        self,
        message_id: int,
        content: str | None = None,
        *,
        status: str,
        metrics: Mapping[str, Any] | None = None,
    ) -> StoredMessage:
        """Finalize a streamed answer with its final status (complete, stopped, ...)."""
        check_status(status, "status", FINAL_STATUSES)
        return self.update_message(message_id, content=content, status=status, metrics=metrics)

    def update_message(
        self,
        message_id: int,
        *,
        content: str | None = None,
        status: str | None = None,
        metrics: Mapping[str, Any] | None = None,
        feedback: int | None = None,
    ) -> StoredMessage:
        """Change some fields of a message; None leaves a field as it is."""
        with self._write() as db:
            row = self._message_row(db, message_id)
            changes: dict[str, Any] = {}
            if content is not None:
                changes["content"] = check_content(row["role"], content, "content")
            if status is not None:
                changes["status"] = check_status(status, "status")
            if metrics is not None:
                changes["metrics"] = dumps_flat(check_flat_object(metrics, "metrics"))
            if feedback is not None:
                changes["feedback"] = check_feedback(feedback)
            if changes:
                sets = ", ".join(f"{name} = ?" for name in changes)  # names from the code above
                db.execute(
                    f"UPDATE messages SET {sets} WHERE id = ?", (*changes.values(), row["id"])
                )
            if changes.keys() - {"feedback"}:  # feedback alone does not reorder the list
                self._touch(db, row["conversation_id"])
            return _message(self._message_row(db, message_id))

    def edit_message(self, message_id: int, content: str) -> StoredMessage:
        """Replace a message's text and delete every later message (edit and resend)."""
        with self._write() as db:
            row = self._message_row(db, message_id)
            text = check_content(row["role"], content, "content")
            db.execute(
                "UPDATE messages SET content = ?, status = 'complete' WHERE id = ?",
                (text, row["id"]),
            )
            db.execute(
                "DELETE FROM messages WHERE conversation_id = ? AND position > ?",
                (row["conversation_id"], row["position"]),
            )
            self._touch(db, row["conversation_id"])
            return _message(self._message_row(db, message_id))

    def truncate_after(self, conversation_id: int, position: int) -> int:
        """Delete the messages after ``position`` (-1: all); returns how many went."""
        if isinstance(position, bool) or not isinstance(position, int) or position < -1:
            raise ValidationError("position", "position must be an integer from -1")
        with self._write() as db:
            self._conversation_row(db, conversation_id)
            cur = db.execute(
                "DELETE FROM messages WHERE conversation_id = ? AND position > ?",
                (conversation_id, position),
            )
            if cur.rowcount:
                self._touch(db, conversation_id)
        return cur.rowcount

    def get_message(self, message_id: int) -> StoredMessage | None:
        with self._read() as db:
            try:
                return _message(self._message_row(db, message_id))
            except NotFoundError:
                return None

    def import_conversation(
        self,
        title: str | None,
        messages: Sequence[NewMessage],
        *,
        created_at: str | None = None,
        updated_at: str | None = None,
    ) -> ConversationSummary:
        """A new conversation with all its messages, in one transaction (transfer.py's import)."""
        clean = None if title is None else check_title(title)
        if len(messages) > MAX_MESSAGES_PER_CONVERSATION:
            raise LimitError("messages", f"more than {MAX_MESSAGES_PER_CONVERSATION} messages")
        now = self._now()
        created = check_time(created_at, "created_at") if created_at is not None else now
        updated = check_time(updated_at, "updated_at") if updated_at is not None else now
        if clean is None:
            first = next((m.content for m in messages if m.role == "user"), None)
            clean = title_from_prompt(first) if isinstance(first, str) else DEFAULT_TITLE
        with self._write() as db:
            cur = db.execute(
                "INSERT INTO conversations (title, created_at, updated_at) VALUES (?, ?, ?)",
                (clean, created, updated),
            )
            conversation_id = cast(int, cur.lastrowid)
            # validated row by row inside the transaction: a bad message rolls back the others
            for i, message in enumerate(messages):
                self._insert(db, conversation_id, message, created, f"messages[{i}].")
            return ConversationSummary(conversation_id, clean, created, updated, len(messages))

    def _insert(
        self, db: sqlite3.Connection, conversation_id: int, new: NewMessage, now: str, prefix: str
    ) -> int:
        role = check_role(new.role, f"{prefix}role")
        values = (
            conversation_id,
            role,
            check_content(role, new.content, f"{prefix}content"),
            check_status(new.status, f"{prefix}status"),
            check_model(new.model, f"{prefix}model"),
            dumps_flat(check_flat_object(new.params, f"{prefix}params")),
            dumps_flat(check_flat_object(new.metrics, f"{prefix}metrics")),
            check_feedback(new.feedback, f"{prefix}feedback"),
            now if new.created_at is None else check_time(new.created_at, f"{prefix}created_at"),
        )
        count, next_position = db.execute(
            "SELECT count(*), coalesce(max(position) + 1, 0) FROM messages"
            " WHERE conversation_id = ?",
            (conversation_id,),
        ).fetchone()
        if count >= MAX_MESSAGES_PER_CONVERSATION:
            raise LimitError("messages", f"more than {MAX_MESSAGES_PER_CONVERSATION} messages")
        cur = db.execute(
            "INSERT INTO messages (conversation_id, role, content, status, model, params, metrics,"
            " feedback, created_at, position) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (*values, next_position),
        )
        if not prefix:  # a live message, not an import: the conversation moves to the top
            self._touch(db, conversation_id, now)
        return cast(int, cur.lastrowid)

    def _touch(self, db: sqlite3.Connection, conversation_id: int, now: str | None = None) -> None:
        db.execute(
            "UPDATE conversations SET updated_at = ? WHERE id = ?",
            (now or self._now(), conversation_id),
        )

    # -- preferences ---------------------------------------------------------------------------
    def get_pref(self, key: str, default: Any = None) -> Any:
        """A small JSON value saved with ``set_pref`` (for example the last open conversation)."""
        with self._read() as db:
            row = db.execute("SELECT value FROM prefs WHERE key = ?", (key,)).fetchone()
        return default if row is None else json.loads(row["value"])

    def set_pref(self, key: str, value: Any) -> None:
        if not isinstance(key, str) or not 0 < len(key) <= 100:
            raise ValidationError("key", "key must be 1 to 100 characters")
        try:
            text = json.dumps(value, ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise ValidationError("value", "value must be plain JSON") from exc
        if len(text) > MAX_PREF_CHARS:
            raise LimitError("value", f"value is over {MAX_PREF_CHARS} characters as JSON")
        with self._write() as db:
            db.execute(
                "INSERT INTO prefs (key, value) VALUES (?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, text),
            )


def _check_id(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError("id", "an id must be an integer")
    return value


def open_store(settings: Settings | None = None) -> ChatStore:
    """The store at ``settings.db_path`` (``CHAT_DB_PATH``), created and migrated if needed."""
    return ChatStore((settings or load_settings()).db_path)
