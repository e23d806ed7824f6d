"""Versions on the chat page (AppTest): ‹ i/n › under messages, switching, reload, fork."""

import pytest

from tests.app.conftest import browser_of, new_chat_app

pytestmark = pytest.mark.app


def ask(at, prompt):
    at.chat_input[0].set_value(prompt).run()
    assert not at.exception, at.exception
    return at.session_state["chat"]


def labels(at):
    """The ‹ i/n › labels on screen, top to bottom."""
    return [c.value for c in at.caption if "/" in c.value and c.value.replace("/", "").isdigit()]


def press(at, key):
    at.button(key=key).click().run()
    assert not at.exception, at.exception
    return at.session_state["chat"]


def test_regenerate_twice_then_go_back_to_the_first_and_reload(chat_env):
    at = new_chat_app()
    ask(at, "/lorem 5")
    first = at.session_state["chat"].turns[1].content
    press(at, "regenerate")
    session = press(at, "regenerate")
    assert labels(at) == ["3/3"]
    answer = session.turns[1]
    versions = answer.versions()
    press(at, f"ver-prev-{answer.message_id}")
    session = press(at, f"ver-prev-{versions.previous_id}")
    assert labels(at) == ["1/3"] and session.turns[1].content == first
    assert at.button(key=f"ver-prev-{session.turns[1].message_id}").disabled
    reloaded = new_chat_app(browser_of(at), c=session.conversation_id)
    assert labels(reloaded) == ["1/3"]
    assert reloaded.session_state["chat"].turns[1].message_id == session.turns[1].message_id


def test_edit_the_first_prompt_then_switch_back_to_the_old_branch(chat_env):
    at = new_chat_app()
    ask(at, "/echo alpha")
    ask(at, "/echo beta")
    key = next(t.key for t in at.text_area if t.key and t.key.startswith("edit-text-"))
    at.text_area(key=key).input("/echo gamma").run()
    session = press(at, "resend-0")
    assert [t.content for t in session.turns] == ["/echo gamma", "gamma"]
    assert labels(at) == ["2/2"]
    session = press(at, f"ver-prev-{session.turns[0].message_id}")
    assert [t.content for t in session.turns] == ["/echo alpha", "alpha", "/echo beta", "beta"]
    assert labels(at) == ["1/2"]


def test_fork_from_the_second_turn_opens_a_new_chat_with_two_turns(chat_env):
    at = new_chat_app()
    original = ask(at, "/echo one").conversation_id
    ask(at, "/echo two")
    ask(at, "/echo three")
    second_answer = at.session_state["chat"].turns[3]
    session = press(at, f"fork-{second_answer.message_id}")
    assert session.conversation_id != original
    assert [t.content for t in session.turns] == ["/echo one", "one", "/echo two", "two"]
    assert at.query_params["c"] == session.conversation_id
    titles = [b.label for b in at.sidebar.button if b.key and b.key.startswith("conv-")]
    assert any(t.startswith("Fork of /echo one") for t in titles)


def test_usage_counts_every_version(chat_env):
    at = new_chat_app()
    ask(at, "/echo counted")

    def tokens():
        (metric,) = [m for m in at.sidebar.metric if m.label == "Tokens in this chat"]
        return int(metric.value.lstrip("~").replace(",", ""))

    once = tokens()
    press(at, "regenerate")
    assert tokens() == 2 * once  # the first version was paid for too


def test_delete_a_version_asks_first_and_shows_the_one_beside_it(chat_env):
    at = new_chat_app()
    ask(at, "/lorem 4")
    session = press(at, "regenerate")
    newest = session.turns[1]
    assert labels(at) == ["2/2"]
    session = press(at, f"delete-version-{newest.message_id}")  # the button in the popover
    assert labels(at) == []  # one version left: no ‹ ›
    assert [t.role for t in session.turns] == ["user", "assistant"]
    assert session.turns[1].message_id == newest.siblings[0]
    assert session.store.get_message(session.owner, newest.message_id) is None
