"""The chat answer's state machine: phases, late clicks ignored, re-attaching, other tabs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chat_core import GenerationParams, OfflineBackend
from chat_core.chat.chrome import matching_titles, model_caption, name_the_source, relative_age
from chat_core.chat.live import (
    STALL_NOTICE_S,
    LiveAnswers,
    join_continuation,
    waiting_label,
    waiting_seconds,
)
from chat_core.chat.session import ChatSession
from chat_core.messages import MAX_SYSTEM_CHARS
from chat_core.runs import Run
from chat_core.storage.store import ChatStore
from tests.support.runs import iter_run

PARAMS = GenerationParams()
OWNER = "owner-1"


def drain(session: ChatSession):
    assert session.run is not None
    for _ in iter_run(session.run):
        pass
    return session.finish()


@pytest.fixture
def store(tmp_path):
    store = ChatStore(f"sqlite:///{tmp_path / 'chats.sqlite3'}")
    yield store
    store.close()


def session_on(store: ChatStore, registry: LiveAnswers | None = None) -> ChatSession:
    live = registry if registry is not None else LiveAnswers()
    return ChatSession(store=store, owner=OWNER, live_answers=live)


def test_phases_go_idle_streaming_finished_idle():
    session = ChatSession(live_answers=LiveAnswers())
    assert session.phase == "idle"
    session.submit("/stall 0.2\n/echo hi", OfflineBackend(5000), PARAMS)
    assert session.phase == "streaming"
    for _ in iter_run(session.run):
        pass
    assert session.phase == "finished" and session.streaming
    assert session.finish().content == "hi"
    assert session.phase == "idle" and session.finish() is None


def test_actions_while_streaming_or_drawn_for_an_older_state_are_ignored():
    session = ChatSession(live_answers=LiveAnswers())
    backend = OfflineBackend(5000)
    session.submit("/echo one", backend, PARAMS)
    drawn = session.version
    assert session.retry(backend, PARAMS) is None  # streaming: nothing else starts
    assert session.submit("/echo two", backend, PARAMS) is None
    assert session.continue_answer(backend, PARAMS) is None
    assert session.edit(0, "x", backend, PARAMS) is None
    drain(session)
    assert session.retry(backend, PARAMS, expected=drawn) is None  # a late Regenerate
    first = session.retry(backend, PARAMS, expected=session.version)
    assert first is not None
    second_click = session.version - 1
    assert session.retry(backend, PARAMS, expected=second_click) is None  # a double click
    drain(session)
    assert [t.role for t in session.turns] == ["user", "assistant"]
    assert session.edit(7, "out of range", backend, PARAMS) is None
    assert session.clear(expected=drawn) is None and session.turns


def test_continue_is_shown_once_while_it_streams_and_appends_in_place():
    session = ChatSession(live_answers=LiveAnswers())
    backend = OfflineBackend(5000)
    session.submit("/error timeout after 3 times 1\n/echo a b c d e f", backend, PARAMS)
    partial = drain(session)
    session.continue_answer(backend, PARAMS, expected=session.version)
    assert [t.role for t in session.turns] == ["user"]  # the partial is in the live answer
    assert session.live.prefix == partial.content
    merged = drain(session)
    assert merged.content == "a b c d e f"
    assert [t.role for t in session.turns] == ["user", "assistant"]


def test_opening_a_chat_again_re_attaches_to_its_live_answer(store):
    registry = LiveAnswers()
    first = session_on(store, registry)
    run = first.submit("/stall 2 after 2\n/echo a b c d", OfflineBackend(2000), PARAMS)
    chat_id = first.conversation_id
    first.new_conversation()  # switched away mid-answer
    assert first.live is None and not run.finished

    assert first.open(chat_id)  # and back: the same live run, not a frozen row
    assert first.run is run and [t.role for t in first.turns] == ["user"]
    reloaded = session_on(store, registry)  # a reload or a second tab: a new session
    assert reloaded.open(chat_id) and reloaded.run is run
    assert drain(first).content == "a b c d"
    assert drain(reloaded).content == "a b c d"
    assert len(registry) == 0  # gone once the final answer is stored


def test_a_streaming_row_without_a_live_run_shows_as_interrupted(store):
    session = session_on(store)
    chat = store.create_conversation(OWNER)
    store.add_message(OWNER, chat.id, "user", "hello")
    store.start_answer(OWNER, chat.id, model="m", params={})
    assert session.open(chat.id)
    assert session.live is None and session.turns[-1].status == "interrupted"


def test_sync_shows_another_tabs_turns_and_bumps_the_version(store):
    registry = LiveAnswers()
    one, two = session_on(store, registry), session_on(store, registry)
    one.submit("/echo first", OfflineBackend(5000), PARAMS)
    drain(one)
    assert two.open(one.conversation_id)
    one.submit("/echo second", OfflineBackend(5000), PARAMS)
    drain(one)
    before = two.version
    assert two.sync() is True
    assert [t.content for t in two.turns] == ["/echo first", "first", "/echo second", "second"]
    assert two.version > before
    assert two.sync() is False and two.version > before  # unchanged: no new version


def test_waiting_is_said_before_the_first_token_and_after_a_stall():
    run = Run()
    assert waiting_seconds(run, now=run.created_at + 2.4) == pytest.approx(2.4)
    assert waiting_label(2.4) == "Waiting for the model… 2 s"
    from chat_core import Done, TextDelta

    run.append(TextDelta("hi"))
    arrived = run.arrival_times[-1]
    assert waiting_seconds(run, now=arrived + 0.2) is None
    assert waiting_label(None) == "Answering…"
    assert waiting_seconds(run, now=arrived + STALL_NOTICE_S + 2) == pytest.approx(
        STALL_NOTICE_S + 2
    )
    run.append(Done())
    assert waiting_seconds(run, now=arrived + 10) is None


@pytest.mark.parametrize(
    ("prefix", "more", "joined"),
    [
        ("one two", " three", "one two three"),
        ("The end.", "Next part", "The end. Next part"),
        ("and so", "On it goes", "and so On it goes"),
        ("exam", "ple", "example"),
        ("", "text", "text"),
    ],
)
def test_a_continuation_is_joined_without_gluing_words(prefix, more, joined):
    assert join_continuation(prefix, more) == joined


def test_errors_name_the_sidebar_field_the_value_came_from():
    message = "The OpenAI back end needs OPENAI_API_KEY (or OPENAI_BASE_URL for a local server)."
    typed = name_the_source(message, {"OPENAI_BASE_URL"})
    assert "the sidebar's “Base URL” field" in typed
    assert "OPENAI_API_KEY (or the sidebar's “OpenAI API key” field)" in typed
    assert name_the_source("CHAT_GATEWAY_TOKEN is bad", set()) == "CHAT_GATEWAY_TOKEN is bad"


def test_relative_dates_and_title_search():
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    assert relative_age("2026-12-01T11:59:30.000000Z", now) == "just now"
    assert relative_age(now - timedelta(minutes=5), now) == "5 min ago"
    assert relative_age(now - timedelta(hours=2, minutes=5), now) == "2 h ago"
    assert relative_age(now - timedelta(days=3), now) == "3 d ago"
    assert relative_age(now - timedelta(days=90), now) == "02 Sep 2026"
    titles = ["Plan a picnic", "Tax questions", "picnic menu"]
    assert matching_titles(titles, "PICNIC") == [0, 2]
    assert matching_titles(titles, "picnic menu") == [2]
    assert matching_titles(titles, "") == [0, 1, 2]


def test_the_caption_names_a_model_only_where_this_side_chooses_it():
    assert model_caption("offline", "offline-scripted") == (
        "Back end **offline** · model `offline-scripted`"
    )
    remote = model_caption("remote", "gpt-4o-mini", "http://127.0.0.1:8000")
    assert "gpt-4o-mini" not in remote and "the server chooses the model" in remote


def test_an_answer_to_a_long_system_prompt_is_stored_with_it(store):
    # the system prompt may be MAX_SYSTEM_CHARS long; the answer's params keep it whole
    system = "Be brief. " * (MAX_SYSTEM_CHARS // 10)
    session = session_on(store)
    session.submit("/echo fine", OfflineBackend(5000), GenerationParams(system=system))
    assert drain(session).content == "fine"
    answer = store.get_conversation(OWNER, session.conversation_id).messages[-1]
    assert answer.content == "fine" and answer.status == "complete"
    assert answer.params["system"] == system
