"""The chat page while its PostgreSQL server is stopped, then back: no error page, the chat on
screen stays, a prompt that cannot be stored is put back into the input with the reason,
and the page's writes (feedback, rename) say what failed in one line."""

from collections.abc import Iterator

import pytest

from tests.app.conftest import new_chat_app
from tests.support.postgres import Postgres, run_postgres

pytestmark = pytest.mark.app

NOT_SENT = "**Not sent:** The database is unreachable. Your prompt is back in the input."


@pytest.fixture(scope="module")
def postgres() -> Iterator[Postgres]:
    """A server of this module's own: its tests stop and start it."""
    with run_postgres() as server:
        yield server


@pytest.fixture
def stopped(postgres: Postgres) -> Iterator[Postgres]:
    """The server, to be stopped by the test; started again whatever happens."""
    try:
        yield postgres
    finally:
        postgres.start()


def test_a_prompt_is_put_back_while_the_database_is_away(chat_env, monkeypatch, stopped):
    monkeypatch.setenv("CHAT_DB_URL", stopped.new_database())
    at = new_chat_app()
    at.chat_input[0].set_value("/echo first").run()
    assert [t.content for t in at.session_state["chat"].turns] == ["/echo first", "first"]

    stopped.stop()
    prompt = "A long prompt, written with care, that the database cannot take now."
    at.chat_input[0].set_value(prompt).run()
    assert not at.exception, at.exception
    assert NOT_SENT in [e.value for e in at.error]
    assert at.chat_input[0].value == prompt  # back in the input, not submitted again
    session = at.session_state["chat"]
    assert session.live is None and [t.content for t in session.turns] == ["/echo first", "first"]
    assert any("out of date" in w.value or "unavailable" in w.value for w in at.warning)

    at.run()  # another rerun with the database away: still a page, still the chat
    assert not at.exception, at.exception
    assert [t.content for t in at.session_state["chat"].turns] == ["/echo first", "first"]

    stopped.start()
    at.chat_input[0].set_value(prompt).run()  # sent once the database is back
    assert not at.exception, at.exception
    assert [t.content for t in at.session_state["chat"].turns][-2] == prompt


def test_feedback_while_the_database_is_away_is_a_short_note(chat_env, monkeypatch, stopped):
    monkeypatch.setenv("CHAT_DB_URL", stopped.new_database())
    at = new_chat_app()
    at.chat_input[0].set_value("/echo rate me").run()
    stopped.stop()
    at.feedback[0].set_value(1).run()
    assert not at.exception, at.exception
    assert any("Feedback not saved" in t.value for t in at.toast)
    assert at.session_state["chat"].turns[-1].feedback == 0  # not pretended saved


def test_writes_refused_by_the_database_are_short_notes(chat_env):
    """A database that reads but refuses writes (read-only, as a full or locked file is)."""
    at = new_chat_app()
    at.chat_input[0].set_value("/echo keep me").run()
    session = at.session_state["chat"]
    with session.store.db.read() as conn:  # the page's own connection: SQLite has one
        conn.exec_driver_sql("PRAGMA query_only = ON")

    at.sidebar.text_input(key=f"title-{session.conversation_id}").set_value("Renamed").run()
    assert not at.exception, at.exception
    assert any(w.value.startswith("Not renamed: ") for w in at.sidebar.warning)

    at.feedback[0].set_value(0).run()
    assert not at.exception, at.exception
    assert any("Feedback not saved" in t.value for t in at.toast)

    next(t for t in at.toggle if t.label == "Delete this chat").set_value(True).run()
    next(b for b in at.button if b.label == "Delete for good").click().run()
    assert not at.exception, at.exception
    assert any(t.value.startswith("Not done: ") for t in at.toast)

    at.chat_input[0].set_value("/echo a second prompt").run()
    assert not at.exception, at.exception
    assert "**Not sent:** The database is read-only. Your prompt is back in the input." in [
        e.value for e in at.error
    ]
    assert at.chat_input[0].value == "/echo a second prompt"
    assert [t.content for t in at.session_state["chat"].turns] == ["/echo keep me", "keep me"]
