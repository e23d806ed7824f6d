"""Session-wide real servers: PostgreSQL and Redis on free ports on 127.0.0.1.

Under ``CI=true`` a server that cannot start fails the run. Elsewhere a test
that needs one is skipped only when the server is not installed (``make deps``
installs both); one that is installed but does not start is a failure.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.support import postgres as pg
from tests.support import redis as rd

IN_CI = os.environ.get("CI", "").lower() == "true"


def _missing(what: str) -> None:
    message = f"{what} is not installed (make deps installs it)"
    if IN_CI:
        pytest.fail(f"{message}; under CI=true it is required", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[pg.Postgres]:
    """A PostgreSQL server for the whole run; ``.new_database()`` per test."""
    if pg.find_binary("initdb") is None or pg.find_binary("pg_ctl") is None:
        _missing("PostgreSQL (initdb, pg_ctl)")
    with pg.run_postgres() as server:
        yield server


@pytest.fixture(scope="session")
def redis_server() -> Iterator[rd.Redis]:
    """A Redis server for the whole run (no persistence); flush between tests if needed."""
    if rd.find_binary() is None:
        _missing("redis-server")
    with rd.run_redis() as server:
        yield server


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path) -> str:
    """An empty chat database: a SQLite file, or a fresh database on the real PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'data' / 'chats.sqlite3'}"
    return str(request.getfixturevalue("postgres_server").new_database())
