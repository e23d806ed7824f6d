"""PostgreSQL stopped while an answer streams, in the browser: the answer goes on, the page
says it is not saved (no error box), and once the server is back the answer is stored."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import text

from chat_core.storage.store import ChatStore
from tests.e2e.harness import ChatPage, streamlit_app
from tests.support.polling import wait_for
from tests.support.postgres import run_postgres

pytestmark = pytest.mark.e2e

NOT_SAVED = "Not saved: the database is unreachable; the answer goes on"
ERROR_BOX = '[data-testid="stException"]'


def test_postgres_stopped_mid_answer_shows_not_saved_then_stores_it(
    page: Page, tmp_path: Path
) -> None:
    with run_postgres() as postgres:
        db_url = postgres.new_database()
        with streamlit_app(tmp_path, tokens_per_second=25, CHAT_DB_URL=db_url) as server:
            chat = ChatPage(page).open(server.url)
            chat.send("/lorem 400")  # about 16 s at 25 tokens/s
            chat.wait_streaming()
            postgres.stop()
            try:
                expect(page.get_by_text(NOT_SAVED)).to_be_visible()
                assert chat.streaming_text()  # still streaming on screen
                expect(page.locator(ERROR_BOX)).to_have_count(0)
            finally:
                postgres.start()
            chat.wait_idle(answers=1)
            expect(page.locator(ERROR_BOX)).to_have_count(0)
            shown = chat.answers.last.inner_text()

            with ChatStore(db_url) as store:  # saved once the server was back
                assert wait_for(lambda: stored_answer(store)[0] == "complete", timeout_s=60)
                content = stored_answer(store)[1]
            assert len(content) > 1000
            # the stored markdown is what was shown (a code fence's language aside)
            assert len(words(content) - words(shown)) <= 1, words(content) - words(shown)
            expect(page.get_by_text(NOT_SAVED)).to_have_count(0)  # gone once saved


def words(text_: str) -> set[str]:
    return set(re.findall(r"[A-Za-z]{3,}", text_))


def stored_answer(store: ChatStore) -> tuple[str | None, str]:
    """The newest answer's status and text (the browser's owner id is not known here)."""
    with store.db.read() as conn:
        row = conn.execute(
            text(
                "SELECT status, content FROM messages WHERE role = 'assistant' "
                "ORDER BY id DESC LIMIT 1"
            )
        ).first()
    return (None, "") if row is None else (str(row[0]), str(row[1]))
