"""Issue 19, items 3 and 4 on the page: starters that fit the back end, prompts never lost."""

import pytest

from chat_core import GenerationParams, OfflineBackend
from chat_core.backends.offline import EXPLAIN_STREAMING_PROMPT
from chat_core.chat.starters import MODEL_STARTERS
from tests.app.conftest import new_chat_app

pytestmark = pytest.mark.app


@pytest.fixture
def app(chat_env):
    return new_chat_app()


def starter_labels(at) -> list[str]:
    return [b.label for b in at.button if b.key and b.key.startswith("starter-")]


def test_offline_notice_lists_the_directives_and_explain_gets_an_explanation(app):
    notice = next(i.value for i in app.main.info if "Offline model" in i.value)
    for directive in ("/lorem N", "/stall S", "/error KIND", "/think S", "/echo TEXT"):
        assert directive in notice
    next(b for b in app.button if b.label == "Explain streaming").click().run()
    session = app.session_state["chat"]
    assert session.turns[0].content == EXPLAIN_STREAMING_PROMPT
    answer = session.turns[-1].content
    assert "st.write_stream" in answer and "You wrote" not in answer


def test_a_directive_starter_titles_the_chat_with_words_not_the_directive(app):
    next(b for b in app.button if b.label.startswith("A long answer")).click().run()
    session = app.session_state["chat"]
    title = session.store.get_conversation(session.owner, session.conversation_id).title
    assert title == "A long answer"


def test_a_real_model_gets_ordinary_starters(chat_env, monkeypatch):
    # A server that refuses at once: the page must not need it to draw the starters.
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    app = new_chat_app()
    assert not app.exception
    labels = starter_labels(app)
    assert labels == [s.label for s in MODEL_STARTERS]
    assert not [b for b in app.button if b.key and b.key.startswith("starter-") and "/" in b.help]
    assert not any("Offline model" in i.value for i in app.main.info)


def test_a_blank_prompt_is_ignored_quietly(app):
    app.chat_input[0].set_value("   \n\t ").run()
    assert not app.exception
    assert not app.error and not app.warning
    assert app.session_state["chat"].turns == []


def test_a_prompt_sent_while_another_answer_streams_is_kept_and_explained(app):
    session = app.session_state["chat"]
    # Another tab of this chat started an answer that is still streaming.
    other_tab = "/stall 1 after 1\n/echo from the other tab"
    session.submit(other_tab, OfflineBackend(), GenerationParams())
    app.chat_input[0].set_value("my second question").run()
    assert not app.exception
    contents = [t.content for t in app.session_state["chat"].turns]
    assert "my second question" not in contents
    assert any("Not sent" in w.value and "another tab" in w.value for w in app.warning)
    assert not app.chat_input[0].disabled
    # The note stays until the next send, which then goes through.
    app.chat_input[0].set_value("my second question").run()
    contents = [t.content for t in app.session_state["chat"].turns]
    assert contents[-2] == "my second question"
    assert not any("Not sent" in w.value for w in app.warning)


def test_a_20000_character_prompt_is_shown_collapsed(app):
    long_prompt = "/echo ok\n" + "\n".join(f"paragraph {i} " + "words " * 30 for i in range(110))
    assert len(long_prompt) > 20_000
    app.chat_input[0].set_value(long_prompt).run()
    assert not app.exception
    user = next(m for m in app.main.chat_message if m.name == "user")
    shown = user.markdown[0].value
    assert "paragraph 0" in shown and "paragraph 50" not in shown
    show_all = user.expander[0]
    assert show_all.label.startswith("Show all (")
    assert "paragraph 109" in show_all.markdown[0].value
