"""The PostgreSQL and Redis fixtures start real servers on 127.0.0.1, set up as the tests need."""

from __future__ import annotations

import psycopg
import pytest

from tests.support.redis import command

pytestmark = pytest.mark.integration


def test_postgres_fixture_serves_utf8_databases_on_loopback(postgres_server) -> None:
    first, second = postgres_server.new_database(), postgres_server.new_database()
    assert first != second
    conninfo = first.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo) as conn:
        encoding, listen = conn.execute(
            "SELECT pg_encoding_to_char(encoding), current_setting('listen_addresses')"
            " FROM pg_database WHERE datname = current_database()"
        ).fetchone()
    assert (encoding, listen) == ("UTF8", "127.0.0.1")


def test_redis_fixture_answers_and_keeps_nothing_on_disk(redis_server) -> None:
    assert command(redis_server, "PING") == b"+PONG\r\n"
    assert command(redis_server, "SET", "k", "v") == b"+OK\r\n"
    assert command(redis_server, "GET", "k") == b"$1\r\nv\r\n"
    assert command(redis_server, "CONFIG", "GET", "save").endswith(b"$4\r\nsave\r\n$0\r\n\r\n")
    assert b"$2\r\nno\r\n" in command(redis_server, "CONFIG", "GET", "appendonly")
