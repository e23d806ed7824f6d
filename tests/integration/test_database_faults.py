"""The chat when its database fails, with real databases: a PostgreSQL server stopped and
started (mid-answer, and between two reads of one store), and a SQLite file that is full
(``PRAGMA max_page_count``: SQLite's own "database or disk is full", SQLITE_FULL, as on a
full disk) before a prompt and while an answer streams.

The session is driven as the chat page drives it: one ``save_partial`` per event read."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chat_core import GenerationParams, OfflineBackend, StoreError
from chat_core.chat.saving import UnsavedAnswers
from chat_core.chat.session import ChatSession
from chat_core.chat.turns import ChatTurn
from chat_core.storage.store import ChatStore
from tests.support.polling import wait_for
from tests.support.postgres import Postgres, run_postgres
from tests.support.runs import iter_run

pytestmark = pytest.mark.integration
PARAMS = GenerationParams()
UNREACHABLE = (
    "Not saved: the database is unreachable; the answer goes on and will be saved when it is back."
)


@pytest.fixture(scope="module")
def postgres() -> Iterator[Postgres]:
    """A server of this module's own: its tests stop and start it."""
    with run_postgres() as server:
        yield server


def stream_page_like(session: ChatSession, upto: int | None = None) -> set[str | None]:
    """Read the live run as the page does, saving the text as it goes; the notices seen."""
    assert session.run is not None
    notices: set[str | None] = set()
    for seq, _event in iter_run(session.run):
        session.save_partial()
        notices.add(session.unsaved_notice())
        if upto is not None and seq >= upto:
            break
    return notices


# -- PostgreSQL ----------------------------------------------------------------------------
def test_the_store_reconnects_on_its_own_after_postgres_restarts(postgres: Postgres) -> None:
    with ChatStore(postgres.new_database()) as store:
        kept = store.create_conversation("browser:pg", "kept")
        postgres.stop()
        try:
            with pytest.raises(StoreError) as failed:
                store.list_conversations("browser:pg")
            assert "SELECT" not in str(failed.value)  # the driver's line, never the SQL
        finally:
            postgres.start()
        # the same store, no restart of the app: its pool drops the dead connections
        assert [c.id for c in store.list_conversations("browser:pg")] == [kept.id]


def test_postgres_stopped_and_started_mid_answer(postgres: Postgres) -> None:
    with ChatStore(postgres.new_database()) as store:
        session = ChatSession(
            store=store,
            owner="browser:pg",
            final_save_delays_s=(0.2,) * 200,
            unsaved=UnsavedAnswers(),  # this test's own: message ids repeat across databases
        )
        run = session.submit("/lorem 400", OfflineBackend(tokens_per_second=80), PARAMS)
        assert run is not None
        stream_page_like(session, upto=10)
        postgres.stop()
        try:
            notices = stream_page_like(session)  # to its end, the database away throughout
            assert UNREACHABLE in notices  # said while the answer went on
            assert run.finish_reason == "stop"
            turn = session.finish()  # the page moves on to the finished answer: no exception
            assert turn is not None and turn.status == "complete" and turn.content == run.text
            assert session.unsaved_notice() == (  # the final save waits for the database
                "Not saved yet: the database is unreachable; the answer will be saved when it is "
                "back."
            )
        finally:
            postgres.start()
        message_id = turn.message_id
        assert message_id is not None

        def stored_whole() -> bool:
            stored = store.get_message("browser:pg", message_id)
            return stored is not None and stored.status == "complete"

        assert wait_for(stored_whole, timeout_s=30)  # the run's own retry, no page involved
        stored = store.get_message("browser:pg", message_id)
        assert stored is not None and stored.content == run.text
        assert wait_for(lambda: session.unsaved_notice() is None)
        session.sync()  # the page's next rerun reads it back
        assert [t.content for t in session.turns] == ["/lorem 400", run.text]


# -- SQLite, full --------------------------------------------------------------------------
def fill_up(store: ChatStore) -> None:
    """No page more than the file has now: what needs room fails with SQLITE_FULL."""
    with store.db.write() as conn:
        pages = conn.exec_driver_sql("PRAGMA page_count").scalar()
        conn.exec_driver_sql(f"PRAGMA max_page_count = {int(pages or 1)}")


def test_a_full_sqlite_keeps_the_prompt_and_sends_nothing(tmp_path) -> None:
    with ChatStore(tmp_path / "chats.sqlite3") as store:
        session = ChatSession(store=store, owner="browser:full")
        session.submit("/echo a first one", OfflineBackend(5000), PARAMS)
        stream_page_like(session)
        session.finish()
        fill_up(store)
        prompt = "A long prompt that took a while to write. " * 400
        with pytest.raises(StoreError) as failed:
            session.submit(prompt, OfflineBackend(5000), PARAMS)
        assert str(failed.value) == ("The database is full. Your prompt is back in the input.")
        assert session.live is None  # nothing was sent to the model
        assert [t.content for t in session.turns] == ["/echo a first one", "a first one"]
        stored = store.get_conversation("browser:full", session.conversation_id or "")
        assert stored is not None and len(stored.messages) == 2


def test_a_sqlite_filling_up_mid_answer_leaves_no_streaming_row(tmp_path) -> None:
    with ChatStore(tmp_path / "chats.sqlite3") as store:
        session = ChatSession(
            store=store,
            owner="browser:full",
            final_save_delays_s=(0.05, 0.05, 0.05),
            unsaved=UnsavedAnswers(),
        )
        run = session.submit("/lorem 3000", OfflineBackend(tokens_per_second=1500), PARAMS)
        assert run is not None
        stream_page_like(session, upto=5)
        fill_up(store)
        notices = stream_page_like(session)
        assert (
            "Not saved: the database is full; the answer goes on and will be saved when it is back."
            in notices
        )
        turn = session.finish()
        assert turn is not None and turn.status == "complete" and turn.content == run.text
        message_id = turn.message_id
        # the final save was tried, retried, given up; the row says why, never "streaming"
        assert wait_for(lambda: session.live_answers.get(message_id) is None)
        stored = store.get_message("browser:full", message_id or 0)
        assert stored is not None and stored.status == "interrupted"
        assert stored.metrics["error_message"] == "Not saved: the database is full."
        reloaded = ChatTurn.from_stored(stored)  # what a reload shows beside the partial text
        assert reloaded.status == "interrupted" and reloaded.error is not None
        assert reloaded.error.message == "Not saved: the database is full."
        notice = session.unsaved_notice()
        assert notice is not None and "only on this screen" in notice
