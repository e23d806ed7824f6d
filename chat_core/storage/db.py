"""SQL plumbing: one SQLAlchemy engine per store, and the two kinds of transaction it uses.

    db = Database("sqlite:///.chat_data/chats.sqlite3")    # or postgresql+psycopg://...
    with db.write() as conn: ...    # all of the block's writes or none; SQLite's write lock
    with db.read() as conn: ...     # a read (one snapshot on SQLite)

SQLite: one connection per store behind a lock (a Streamlit app shares one store
between its script threads), WAL so readers run beside another process's writer,
a busy timeout so writers queue, and ``BEGIN IMMEDIATE`` for writes so two
processes never both read a position and then both insert it. pysqlite's own
transaction handling is switched off for that, as SQLAlchemy's SQLite dialect
documentation ("Serializable isolation / Savepoints / Transactional DDL")
recommends; its pool would otherwise BEGIN lazily, after the first read.

PostgreSQL through psycopg 3: a small pool that pings before use (hosted
databases drop idle connections) and no server-side prepared statements
(``prepare_threshold=None``), so transaction poolers such as PgBouncer or
Supabase's pooler, which hand each transaction to any server connection, work.

Every SQLAlchemy or driver error leaves as ``StoreError`` with the driver's
first line only: SQLAlchemy's own text carries the SQL and its parameters,
which hold prompts.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError
from sqlalchemy.pool import StaticPool

from chat_core.errors import ConfigError, StoreError

DEFAULT_DB_URL = "sqlite:///.chat_data/chats.sqlite3"


def _enter_wal(cursor: sqlite3.Cursor, busy_timeout_s: float) -> None:
    """``PRAGMA journal_mode = WAL``, retried while another process holds the lock.

    Switching a fresh file to WAL takes an exclusive lock without calling the busy
    handler, so two processes opening a new database at once could fail at once with
    "database is locked" (17 of 300 tries here) instead of queueing as writes do.
    """
    deadline = time.monotonic() + busy_timeout_s
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def sqlite_url(path: str | Path) -> str:
    """The SQLAlchemy URL of a SQLite file (``:memory:`` for a private in-memory database)."""
    return "sqlite://" if str(path) == ":memory:" else f"sqlite:///{path}"


def parse_url(url: str) -> URL:
    """A database URL; bare ``postgresql://`` and ``postgres://`` mean psycopg 3."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigError("CHAT_DB_URL is not a database URL") from exc
    if parsed.drivername in ("postgres", "postgresql"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise ConfigError("CHAT_DB_URL must be a sqlite:/// or postgresql+psycopg:// URL")
    return parsed


def describe(url: URL) -> str:
    """The URL without its password, safe for messages and logs."""
    return url.render_as_string(hide_password=True)


def short_error(exc: BaseException) -> str:
    """The driver's first line, never SQLAlchemy's text with the SQL and its parameters."""
    cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    lines = str(cause).strip().splitlines()
    return (lines[0] if lines else type(cause).__name__)[:200]


class Database:
    """An engine and its transactions; thread-safe, see the module docstring."""

    def __init__(self, url: str, *, busy_timeout_s: float = 10.0) -> None:
        self.url = parse_url(url)
        self.dialect = self.url.get_backend_name()
        # SQLite: one connection, so one user at a time; PostgreSQL locks rows itself
        self._lock: contextlib.AbstractContextManager[Any] = (
            threading.RLock() if self.dialect == "sqlite" else contextlib.nullcontext()
        )
        try:
            self.engine = (
                self._sqlite(busy_timeout_s) if self.dialect == "sqlite" else self._postgres()
            )
        except (OSError, SQLAlchemyError) as exc:
            raise StoreError(f"cannot open the chat database {describe(self.url)}: {exc}") from exc

    def _sqlite(self, busy_timeout_s: float) -> Engine:
        database = self.url.database or ""
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            self.url,
            poolclass=StaticPool,
            connect_args={"timeout": busy_timeout_s, "check_same_thread": False},
        )

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # no implicit BEGIN: we say when and which kind
            cursor = dbapi_conn.cursor()
            try:
                cursor.execute("PRAGMA foreign_keys = ON")
                if database and database != ":memory:":
                    _enter_wal(cursor, busy_timeout_s)
                    # safe from corruption in WAL mode; a power cut may lose the last commits
                    cursor.execute("PRAGMA synchronous = NORMAL")
            finally:
                cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            write = conn.get_execution_options().get("chat_write", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

        return engine

    def _postgres(self) -> Engine:
        connect_args: dict[str, Any] = {"prepare_threshold": None}
        if "connect_timeout" not in self.url.query:
            connect_args["connect_timeout"] = 10
        return create_engine(
            self.url,
            pool_size=4,
            max_overflow=4,
            pool_pre_ping=True,
            pool_recycle=300,
            connect_args=connect_args,
        )

    @contextlib.contextmanager
    def write(self) -> Iterator[Connection]:
        """One write transaction: all of the block's writes or none of them."""
        with self._transaction(write=True) as conn:
            yield conn

    @contextlib.contextmanager
    def read(self) -> Iterator[Connection]:
        """One read transaction (a single snapshot on SQLite)."""
        with self._transaction(write=False) as conn:
            yield conn

    @contextlib.contextmanager
    def _transaction(self, *, write: bool) -> Iterator[Connection]:
        with self._lock:
            try:
                with (
                    self.engine.connect().execution_options(chat_write=write) as conn,
                    conn.begin(),
                ):
                    yield conn
            except SQLAlchemyError as exc:
                verb = "refused a write" if write else "could not be read"
                raise StoreError(f"the chat database {verb}: {short_error(exc)}") from exc

    def close(self) -> None:
        """Close every pooled connection."""
        with self._lock:
            self.engine.dispose()
