"""ChatSession with versions: regenerate, retry in place, edit as a branch, switching (also
mid-answer), fork, and what the model is sent. Real store (SQLite and PostgreSQL), real runs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chat_core import GenerationParams, OfflineBackend
from chat_core.chat.live import LiveAnswers
from chat_core.chat.session import ChatSession
from chat_core.errors import NotFoundError
from chat_core.storage.store import ChatStore
from tests.support.fakes import ScriptedBackend
from tests.support.runs import iter_run

PARAMS = GenerationParams()
FAST = OfflineBackend(5000)


@pytest.fixture
def session(store_url: str) -> Iterator[ChatSession]:
    with ChatStore(store_url) as store:
        yield ChatSession(store=store, owner="browser:me", live_answers=LiveAnswers())


def finish(session: ChatSession):
    for _ in iter_run(session.run):
        pass
    turn = session.finish()
    session.sync()  # as the page's next rerun does: the stored versions come back
    return turn


def contents(session: ChatSession) -> list[str]:
    return [t.content for t in session.turns]


def test_regenerate_keeps_every_answer_as_a_version(session: ChatSession) -> None:
    session.submit("/lorem 3", FAST, PARAMS)
    first = finish(session)
    session.retry(FAST, PARAMS)
    finish(session)
    session.retry(FAST, PARAMS)
    finish(session)
    answer = session.turns[1]
    assert answer.versions().label == "3/3" and len(session.turns) == 2
    session.switch_version(answer.siblings[0])
    assert session.turns[1].message_id == first.message_id
    assert session.turns[1].versions().label == "1/3"
    # a second tab (a reload) shows the same version
    other = ChatSession(store=session.store, owner=session.owner, live_answers=LiveAnswers())
    assert other.open(session.conversation_id)
    assert other.turns[1].versions().label == "1/3"


def test_retry_replaces_only_the_errored_version(session: ChatSession) -> None:
    backend = OfflineBackend(5000)  # its own: "times 1" counts per back end
    session.submit("/lorem 3", backend, PARAMS)
    good = finish(session)
    session.turns[0].content = "/error server after 2 times 1\nhello"  # the next answer fails
    session.retry(backend, PARAMS)
    failed = finish(session)
    assert failed.status == "error" and session.turns[1].versions().label == "2/2"
    session.retry(backend, PARAMS)  # Retry: in the failed version's place
    again = finish(session)
    assert again.status == "complete"
    assert session.turns[1].siblings == (good.message_id, again.message_id)
    assert session.store.get_message(session.owner, failed.message_id) is None


def test_edit_adds_a_branch_and_only_the_active_path_is_sent(session: ChatSession) -> None:
    backend = ScriptedBackend()
    for prompt in ("q1", "q2"):
        session.submit(prompt, backend, PARAMS)
        finish(session)
    session.edit(0, "q1 better", backend, PARAMS)
    assert session.turns[0].versions().label == "2/2"  # at once, while the answer streams
    finish(session)
    assert contents(session) == ["q1 better", "echo: q1 better"]
    assert session.turns[0].versions().label == "2/2"
    session.submit("q3", backend, PARAMS)
    finish(session)
    assert backend.histories[-1] == [
        {"role": "user", "content": "q1 better"},
        {"role": "assistant", "content": "echo: q1 better"},
        {"role": "user", "content": "q3"},
    ]  # nothing of the other branch
    session.switch_version(session.turns[0].siblings[0])
    assert contents(session) == ["q1", "echo: q1", "q2", "echo: q2"]
    session.switch_version(session.turns[0].siblings[1])
    assert contents(session)[-1] == "echo: q3"  # the branch last viewed below it, whole


def test_switching_mid_answer_leaves_it_streaming_and_coming_back_reattaches(
    session: ChatSession,
) -> None:
    session.submit("/lorem 3", FAST, PARAMS)
    first = finish(session)
    run = session.retry(OfflineBackend(4), PARAMS)  # slow (seconds): still streaming below
    streaming_id = session.live.message_id
    session.switch_version(first.message_id)
    assert session.live is None and not run.finished  # not cancelled: it goes on in its branch
    assert session.turns[1].message_id == first.message_id
    session.switch_version(streaming_id)
    assert session.live is not None and session.live.run is run  # re-attached
    finish(session)
    assert session.turns[1].message_id == streaming_id and session.turns[1].status == "complete"


def test_unknown_or_foreign_versions_change_nothing(session: ChatSession) -> None:
    session.submit("/lorem 3", FAST, PARAMS)
    finish(session)
    theirs = session.store.create_conversation("browser:other").id
    foreign = session.store.add_message("browser:other", theirs, "user", "x").id
    before = contents(session)
    for wrong in (foreign, 10**9):
        with pytest.raises(NotFoundError):
            session.switch_version(wrong)
        with pytest.raises(NotFoundError):
            session.fork(wrong)
    assert contents(session) == before


def test_fork_opens_a_new_chat_with_the_path_up_to_a_message(session: ChatSession) -> None:
    for prompt in ("/echo one", "/echo two", "/echo three"):
        session.submit(prompt, FAST, PARAMS)
        finish(session)
    original = session.conversation_id
    session.fork(session.turns[3].message_id)
    assert session.conversation_id != original
    assert contents(session) == ["/echo one", "one", "/echo two", "two"]


def test_a_second_tab_follows_a_switch_and_reads_nothing_when_nothing_moved(
    session: ChatSession,
) -> None:
    session.submit("/lorem 3", FAST, PARAMS)
    first = finish(session)
    session.retry(FAST, PARAMS)
    finish(session)
    other = ChatSession(store=session.store, owner=session.owner, live_answers=LiveAnswers())
    other.open(session.conversation_id)
    other.sync()
    assert other.sync() is False  # nothing moved: the path is not read again
    session.switch_version(first.message_id)
    assert other.sync() is True and other.turns[1].message_id == first.message_id
    session.store.rename(session.owner, session.conversation_id, "Renamed")
    other.sync()  # the turns are as they were; what the sidebar shows is not
    assert other.shown.title == "Renamed"


def test_delete_a_version_keeps_the_others_and_refuses_while_streaming(
    session: ChatSession,
) -> None:
    session.submit("/lorem 3", FAST, PARAMS)
    first = finish(session)
    session.retry(FAST, PARAMS)
    second = finish(session)
    session.retry(OfflineBackend(40), PARAMS)
    assert session.delete_version(second.message_id) is False  # an answer streams
    finish(session)
    assert session.delete_version(session.turns[1].message_id) is True
    assert session.turns[1].siblings == (first.message_id, second.message_id)
    with pytest.raises(NotFoundError):
        session.delete_version(10**9)


def test_a_refused_regenerate_leaves_the_chat_as_it_was(session: ChatSession) -> None:
    from chat_core.errors import LimitError
    from chat_core.tree import MAX_SIBLINGS

    session.submit("/lorem 3", FAST, PARAMS)
    finish(session)
    prompt = session.turns[0].message_id
    for _ in range(MAX_SIBLINGS - 1):  # the prompt's answers up to the limit
        session.store.add_message(
            session.owner, session.conversation_id, "assistant", "x", parent_id=prompt
        )
    session.sync()
    shown = contents(session)
    with pytest.raises(LimitError, match="versions"):
        session.retry(FAST, PARAMS)
    assert session.live is None
    session.sync()  # the page's next rerun
    assert contents(session) == shown
