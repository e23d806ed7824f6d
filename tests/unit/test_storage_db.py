"""Database URLs: what CHAT_DB_URL accepts, and what a failure shows."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import OperationalError

from chat_core.errors import ConfigError
from chat_core.storage.db import describe, parse_url, short_error, sqlite_url


def test_bare_postgres_urls_mean_psycopg_3() -> None:
    for url in ("postgresql://u:p@h/db", "postgres://u:p@h/db", "postgresql+psycopg://u:p@h/db"):
        assert parse_url(url).drivername == "postgresql+psycopg"


def test_other_databases_and_junk_are_refused_clearly() -> None:
    for url in ("mysql://u@h/db", "not a url", "http://example.com"):
        with pytest.raises(ConfigError, match="CHAT_DB_URL"):
            parse_url(url)


def test_messages_hide_the_password_and_the_sql() -> None:
    assert "secret" not in describe(parse_url("postgresql://u:secret@h/db"))
    wrapped = OperationalError(
        "INSERT INTO messages VALUES (?)", ("my private prompt",), OSError("disk full")
    )
    assert short_error(wrapped) == "disk full"


def test_sqlite_urls_for_paths() -> None:
    assert sqlite_url("/tmp/x.db") == "sqlite:////tmp/x.db"
    assert sqlite_url(":memory:") == "sqlite://"
