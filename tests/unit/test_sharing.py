"""Share links end to end through the store: snapshot, open, update, revoke, delete, continue."""

from __future__ import annotations

import logging
import secrets
from datetime import UTC, datetime, timedelta

import pytest

from chat_core.errors import ConfigError, NotFoundError, ValidationError
from chat_core.settings import load_settings
from chat_core.sharing import (
    NOT_AVAILABLE,
    ShareOptions,
    build_snapshot,
    chat_links,
    continue_shared,
    link_misses,
    open_link,
    owner_links,
    read_snapshot,
    revoke_link,
    share_chat,
    share_url,
    sharing_refusal,
    update_link,
)
from chat_core.storage.shares import share_snapshot
from chat_core.storage.store import ChatStore

NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)
ALICE, BOB = "browser:" + "a" * 32, "browser:" + "b" * 32


def alice_chat(store: ChatStore) -> str:
    """A chat of Alice's: a system prompt, reasoning, an answer still streaming at the end."""
    conv = store.create_conversation(ALICE).id
    store.add_message(ALICE, conv, "user", "What is <b>2+2</b>?")
    answer = store.start_answer(ALICE, conv, model="m-1", params={"system": "Be terse."})
    store.finish_message(
        ALICE, answer.id, "4", status="complete", metrics={"tokens": 1}, reasoning="adding"
    )
    store.add_message(ALICE, conv, "user", "And 3+3?")
    store.start_answer(ALICE, conv, model="m-1", params={"system": "Be terse."})
    return conv


@pytest.fixture
def store():
    with ChatStore("sqlite://") as store:
        yield store


def test_snapshot_is_the_active_path_with_only_what_was_ticked(store: ChatStore) -> None:
    conversation = store.get_conversation(ALICE, alice_chat(store))
    plain = build_snapshot(conversation, ShareOptions(), app="Demo", shared_at="t")
    assert [m["role"] for m in plain["messages"]] == ["user", "assistant", "user", "assistant"]
    assert plain["messages"][0]["content"] == "What is <b>2+2</b>?"  # text stays text
    assert (
        plain["messages"][1]["metrics"] == {"tokens": 1} and plain["messages"][1]["model"] == "m-1"
    )
    assert plain["messages"][3]["status"] == "interrupted"  # never looks live
    assert plain["system"] == [] and "Be terse." not in str(plain)
    assert "adding" not in str(plain) and "attachments" not in str(plain["messages"])
    ticked = build_snapshot(
        conversation, ShareOptions(reasoning=True, system=True), app="Demo", shared_at="t"
    )
    assert ticked["system"] == ["Be terse."]  # once, though two answers had it
    assert ticked["messages"][1]["reasoning"] == "adding"
    chat = read_snapshot(ticked)
    assert chat is not None and chat.app == "Demo" and chat.system == ("Be terse.",)
    assert chat.options == ShareOptions(reasoning=True, system=True)


@pytest.mark.parametrize("bad", [{}, None, [], {"format": "x"}, {"format": "streaming-chat/share"}])
def test_anything_but_a_snapshot_reads_as_none(bad: object) -> None:
    assert read_snapshot(bad) is None


def test_link_lifecycle_on_either_database(store_url: str) -> None:
    with ChatStore(store_url) as store:
        conv = alice_chat(store)
        token = share_chat(store, ALICE, conv, ShareOptions(), expiry="7 days", app="A", now=NOW)
        chat = open_link(store, token, now=NOW)
        assert chat is not None and len(chat.messages) == 4 and chat.shared_at.startswith("2026")
        assert open_link(store, token, now=NOW + timedelta(days=7)) is None  # expired
        [link] = chat_links(store, ALICE, conv, now=NOW)
        assert (
            owner_links(store, BOB, now=NOW) == [] and chat_links(store, BOB, conv, now=NOW) == []
        )
        assert link.title == "What is <b>2+2</b>?" and link.expires_at is not None
        # update: a new snapshot behind the same link
        store.add_message(ALICE, conv, "user", "One more")
        assert not update_link(store, BOB, link, app="A", now=NOW)  # not Bob's
        assert update_link(store, ALICE, link, app="A", now=NOW + timedelta(hours=1))
        again = open_link(store, token, now=NOW + timedelta(hours=1))
        assert again is not None and again.messages[-1].content == "One more"
        # revoke: dead for good, and its copy erased
        assert not revoke_link(store, BOB, link.share_id, now=NOW)
        assert revoke_link(store, ALICE, link.share_id, now=NOW)
        assert open_link(store, token, now=NOW) is None
        assert not revoke_link(store, ALICE, link.share_id, now=NOW)
        assert not update_link(store, ALICE, link, app="A", now=NOW)
        assert owner_links(store, ALICE, now=NOW) == []


def test_deleting_the_chat_kills_and_erases_its_links(store: ChatStore) -> None:
    conv, other = alice_chat(store), alice_chat(store)
    first = share_chat(store, ALICE, conv, ShareOptions(), expiry="Never", app="A", now=NOW)
    second = share_chat(store, ALICE, conv, ShareOptions(), expiry="30 days", app="A", now=NOW)
    kept = share_chat(store, ALICE, other, ShareOptions(), expiry="1 day", app="A", now=NOW)
    [link, _] = chat_links(store, ALICE, conv, now=NOW)
    assert not store.delete(BOB, conv)  # another owner's delete touches nothing
    assert open_link(store, first, now=NOW) is not None
    assert store.delete(ALICE, conv)
    assert open_link(store, first, now=NOW) is None and open_link(store, second, now=NOW) is None
    assert share_snapshot(store.db, ALICE, link.share_id, NOW) is None
    assert open_link(store, kept, now=NOW) is not None
    assert [x.conversation_id for x in owner_links(store, ALICE, now=NOW)] == [other]


def test_sharing_needs_a_chat_of_ones_own_with_something_in_it(store: ChatStore) -> None:
    conv = alice_chat(store)
    with pytest.raises(NotFoundError):
        share_chat(store, BOB, conv, ShareOptions(), expiry="7 days", app="A", now=NOW)
    empty = store.create_conversation(ALICE).id
    with pytest.raises(ValidationError, match="nothing to share"):
        share_chat(store, ALICE, empty, ShareOptions(), expiry="7 days", app="A", now=NOW)
    with pytest.raises(ValueError, match="unknown expiry"):
        share_chat(store, ALICE, conv, ShareOptions(), expiry="forever", app="A", now=NOW)


def test_continue_copies_the_snapshot_into_the_visitors_own_chats(store: ChatStore) -> None:
    conv = alice_chat(store)
    token = share_chat(
        store, ALICE, conv, ShareOptions(reasoning=True), expiry="7 days", app="A", now=NOW
    )
    chat = open_link(store, token, now=NOW)
    assert chat is not None
    copy = continue_shared(store, BOB, chat)
    assert [c.id for c in store.list_conversations(BOB)] == [copy.id]
    mine = store.get_conversation(BOB, copy.id)
    assert [m.content for m in mine.messages] == ["What is <b>2+2</b>?", "4", "And 3+3?", ""]
    assert mine.messages[1].reasoning == "adding" and mine.messages[3].status == "interrupted"
    assert store.get_conversation(BOB, conv) is None  # the original stays Alice's alone
    store.add_message(BOB, copy.id, "user", "Bob goes on")
    assert len(store.get_conversation(ALICE, conv).messages) == 4


def test_ten_thousand_bad_tokens_get_the_same_answer_and_only_a_count_in_the_log(
    store: ChatStore, caplog: pytest.LogCaptureFixture
) -> None:
    token = share_chat(
        store, ALICE, alice_chat(store), ShareOptions(), expiry="1 day", app="A", now=NOW
    )
    store.delete(ALICE, store.create_conversation(ALICE).id)
    bad = [secrets.token_urlsafe(32) for _ in range(9_990)]
    bad += [token[:-1], token[:20], token + "x", "", "x" * 5000, "%00", "é" * 43, "../", None, 7]
    before = link_misses()
    with caplog.at_level(logging.DEBUG, logger="chat_core.sharing"):
        answers = {open_link(store, t, now=NOW) for t in bad}
    assert answers == {None}
    assert link_misses() - before == 10_000
    lines = [r.getMessage() for r in caplog.records]
    assert 1 <= len(lines) <= 20  # powers of two: a count, not a line per request
    assert all(r.levelno < logging.WARNING for r in caplog.records)
    assert not any(t in line for t in bad[:100] if isinstance(t, str) for line in lines)
    assert open_link(store, token, now=NOW) is not None  # the real one still opens


def test_sharing_modes_and_links() -> None:
    assert sharing_refusal("on", logged_in=False) is None
    assert sharing_refusal(None, logged_in=False) is None
    assert sharing_refusal("login", logged_in=True) is None
    assert sharing_refusal("login", logged_in=False) == "Log in to share a chat."
    assert sharing_refusal("off", logged_in=True) == "Sharing is turned off on this app."
    assert share_url("https://x.example/app/", "T") == "https://x.example/app/shared?t=T"
    assert share_url(None, "T") == "shared?t=T"
    assert "not available" in NOT_AVAILABLE


def test_chat_sharing_setting() -> None:
    assert load_settings(env={}, dotenv_path=None, secrets={}).sharing == "on"
    got = load_settings(env={"CHAT_SHARING": "LOGIN"}, dotenv_path=None, secrets={})
    assert got.sharing == "login"
    with pytest.raises(ConfigError, match="CHAT_SHARING"):
        load_settings(env={"CHAT_SHARING": "maybe"}, dotenv_path=None, secrets={})
