"""Saved conversations on the chat page: new, switch, delete, regenerate, edit, reload, restart."""

import sqlite3

import pytest
import streamlit as st

from chat_core import export_json
from tests.app.conftest import browser_of, new_chat_app

pytestmark = pytest.mark.app


def button(at, label):
    matches = [b for b in at.button if b.label == label]
    assert matches, f"no button {label!r}: {[b.label for b in at.button]}"
    return matches[0]


def chat_titles(at):
    """The chat list's titles, without their relative dates ("Title · 2 h ago")."""
    labels = [b.label for b in at.sidebar.button if b.key and b.key.startswith("conv-")]
    for label in labels:
        assert label.endswith((" ago", "just now")) or label[-4:].isdigit(), label
    return [label.rsplit(" · ", 1)[0] for label in labels]


def ask(at, prompt):
    at.chat_input[0].set_value(prompt).run()
    assert not at.exception, at.exception
    return at.session_state["chat"]


def test_first_prompt_creates_and_titles_a_saved_conversation(chat_env):
    at = new_chat_app()
    session = ask(at, "Plan a picnic for four")
    assert chat_titles(at) == ["Plan a picnic for four"]
    assert at.query_params["c"] == str(session.conversation_id)
    db = sqlite3.connect(chat_env / "chats.sqlite3")
    rows = db.execute("SELECT role, status FROM messages ORDER BY position").fetchall()
    assert rows == [("user", "complete"), ("assistant", "complete")]


def test_new_chat_switch_and_delete(chat_env):
    at = new_chat_app()
    first = ask(at, "First topic").conversation_id
    button(at, "New chat").click().run()
    assert at.session_state["chat"].turns == []
    second = ask(at, "Second topic").conversation_id
    assert first != second
    assert chat_titles(at) == ["Second topic", "First topic"]  # most recent first

    at.button(key=f"conv-{first}").click().run()
    session = at.session_state["chat"]
    assert session.conversation_id == first
    assert session.turns[0].content == "First topic"
    assert at.query_params["c"] == str(first)

    assert [b for b in at.button if b.label == "Delete for good"] == []  # it asks first
    next(t for t in at.toggle if t.label == "Delete this chat").set_value(True).run()
    button(at, "Delete for good").click().run()
    assert chat_titles(at) == ["Second topic"]
    assert at.session_state["chat"].conversation_id is None


def test_regenerate_adds_a_version_of_the_last_answer(chat_env):
    at = new_chat_app()
    ask(at, "/echo one answer")
    at.button(key="regenerate").click().run()
    session = at.session_state["chat"]
    assert [t.role for t in session.turns] == ["user", "assistant"]
    assert session.turns[1].content == "one answer" and session.turns[1].versions().label == "2/2"
    stored = session.store.get_conversation(session.owner, session.conversation_id)
    assert [m.role for m in stored.messages] == ["user", "assistant"]
    assert stored.total_messages == 3  # the first answer is kept, one switch away


def test_edit_a_message_and_resend_shows_a_new_branch(chat_env):
    at = new_chat_app()
    ask(at, "/echo alpha")
    session = ask(at, "/echo beta")
    first_user = session.turns[0]
    at.session_state[f"edit-0-{session.version}"] = True  # open its Edit popover (drawn lazily)
    at.run()
    prefix = f"edit-text-{first_user.message_id}-"
    (area,) = [t for t in at.text_area if t.key and t.key.startswith(prefix)]
    area.input("/echo gamma").run()
    at.button(key="resend-0").click().run()
    session = at.session_state["chat"]
    assert [t.content for t in session.turns] == ["/echo gamma", "gamma"]
    stored = session.store.get_conversation(session.owner, session.conversation_id)
    assert [m.content for m in stored.messages] == ["/echo gamma", "gamma"]
    assert stored.total_messages == 6  # the old branch, all four messages, stays a version


def test_reload_returns_to_the_same_conversation(chat_env):
    at = new_chat_app()
    conversation_id = ask(at, "/echo remembered").conversation_id
    # a new session of the same browser (its cookie), same URL
    reloaded = new_chat_app(browser_of(at), c=str(conversation_id))
    session = reloaded.session_state["chat"]
    assert session.conversation_id == conversation_id
    assert [t.content for t in session.turns] == ["/echo remembered", "remembered"]
    assert session.turns[1].metrics is not None  # metrics kept with the message


def test_restart_shows_previous_conversations(chat_env):
    at = new_chat_app()
    ask(at, "Before the restart")
    st.cache_resource.clear()  # the process's store is gone, as after a restart
    fresh = new_chat_app(browser_of(at))
    assert chat_titles(fresh) == ["Before the restart"]


def test_unknown_conversation_in_url_opens_an_empty_chat(chat_env):
    at = new_chat_app(c="999")
    assert not at.exception
    assert at.session_state["chat"].turns == []
    assert "c" not in at.query_params


def test_failed_answer_is_saved_with_its_status_and_error(chat_env):
    at = new_chat_app()
    conversation_id = ask(at, "/error server after 3\nhi").conversation_id
    reloaded = new_chat_app(browser_of(at), c=str(conversation_id))
    answer = reloaded.session_state["chat"].turns[1]
    assert answer.status == "error" and answer.error.code == "server"
    assert "server" not in answer.content.lower()
    assert "failed" in reloaded.error[0].value.lower()


def test_an_unusable_database_still_chats_without_saving(chat_env, monkeypatch):
    (chat_env / "not-a-db.sqlite3").write_text("this is not sqlite")
    monkeypatch.setenv("CHAT_DB_PATH", str(chat_env / "not-a-db.sqlite3"))
    at = new_chat_app()
    assert "not saved" in at.warning[0].value
    session = ask(at, "/echo still here")
    assert session.turns[-1].content == "still here"


def test_cost_is_shown_only_for_priced_models(chat_env, monkeypatch):
    at = new_chat_app()
    ask(at, "/echo free")
    assert not [m for m in at.sidebar.metric if m.label == "Estimated cost"]  # offline: no price
    answer = at.session_state["chat"].turns[-1]
    expected = answer.metrics.prompt_tokens + answer.metrics.tokens  # reported usage, exact
    assert [m.value for m in at.sidebar.metric if m.label == "Tokens in this chat"] == [
        f"{expected:,}"
    ]
    with sqlite3.connect(chat_env / "chats.sqlite3") as db:  # as if a server had answered
        db.execute(  # a write as the store makes it: the row's time moves too
            "UPDATE messages SET model = 'gpt-4o-mini', updated_at = '2999-01-01T00:00:00.000000Z'"
            " WHERE role = 'assistant'"
        )
    at.run()  # a local model by that name is not billed at OpenAI's rates
    assert not [m for m in at.sidebar.metric if m.label == "Estimated cost"]
    monkeypatch.setenv("CHAT_PRICES", "gpt-4o-mini=1000/1000")  # the owner's own price
    at.run()
    cost = [m.value for m in at.sidebar.metric if m.label == "Estimated cost"]
    assert cost and cost[0].startswith(("$", "<$"))


def test_chats_live_in_postgres_when_chat_db_url_says_so(chat_env, monkeypatch, postgres_server):
    monkeypatch.setenv("CHAT_DB_URL", postgres_server.new_database())
    at = new_chat_app()
    conversation_id = ask(at, "/echo kept in postgres").conversation_id
    assert not (chat_env / "chats.sqlite3").exists()  # CHAT_DB_URL wins over CHAT_DB_PATH
    st.cache_resource.clear()  # an app restart
    fresh = new_chat_app(browser_of(at), c=conversation_id)
    assert chat_titles(fresh) == ["/echo kept in postgres"]
    assert [t.content for t in fresh.session_state["chat"].turns] == [
        "/echo kept in postgres",
        "kept in postgres",
    ]


def test_chats_from_before_owners_are_shown_to_no_visitor(chat_env):
    from chat_core import LEGACY_OWNER
    from tests.unit.test_store_migrations import make_old_file

    make_old_file(chat_env / "chats.sqlite3", 2)
    at = new_chat_app()
    assert chat_titles(at) == []  # the old shared chats stay in the file, hidden
    store = at.session_state["chat"].store
    legacy = store.list_conversations(LEGACY_OWNER)
    assert len(legacy) == 2
    reopened = new_chat_app(c=legacy[0].id)  # even with the id in the URL
    assert reopened.session_state["chat"].turns == []
    assert "c" not in reopened.query_params


def test_search_covers_message_text_and_says_when_nothing_matches(chat_env):
    at = new_chat_app()
    for i in range(6):  # enough chats for the search box
        button(at, "New chat").click().run()
        session = ask(at, f"The word is zebra{i}")
        session.store.rename(session.owner, session.conversation_id, f"Topic {i}")
    at.run()
    assert len(chat_titles(at)) == 6  # all listed: no 200 px box hiding most of them
    at.text_input(key="chat_search").input("zebra3").run()  # only in the answer text
    assert chat_titles(at) == ["Topic 3"]
    at.text_input(key="chat_search").input("no such words").run()
    assert chat_titles(at) == []
    assert any(c.value == "No chats match." for c in at.sidebar.caption)


def test_a_reimport_opens_the_chat_already_there_and_a_bad_file_reads_humanly(chat_env):
    at = new_chat_app()
    session = ask(at, "/echo worth keeping")
    exported = export_json(session.store.get_conversation(session.owner, session.conversation_id))
    button(at, "New chat").click().run()
    upload = ("chat.json", exported.encode(), "application/json")
    at.file_uploader(key="import_file").set_value(upload)
    at.run()
    assert not at.exception
    assert chat_titles(at) == ["/echo worth keeping"]  # no identically titled twin
    assert at.session_state["chat"].conversation_id == session.conversation_id
    assert any("already in your list" in t.value for t in at.toast)

    at.file_uploader(key="import_file").set_value(("bad.json", b'{"not": 1}', "application/json"))
    at.run()
    errors = [e.value for e in at.sidebar.error]
    assert errors and "Not a chat exported from this app" in errors[0]
    assert "bad.json" in errors[0] and "unknown key" not in errors[0]
