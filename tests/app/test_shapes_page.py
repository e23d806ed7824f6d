"""Each answer shape on the chat page (AppTest), from a scripted back end and through a
gateway with the remote back end; an exception mid-stream never leaves an answer streaming."""

import pytest
from streamlit.testing.v1 import AppTest

from chat_core import BackendCache
from chat_core.gateway import GatewayConfig, create_app
from tests.app.conftest import ROOT
from tests.support.fakes import SHAPES, ScriptedBackend
from tests.support.servers import serve_app

pytestmark = pytest.mark.app


def page_with(backend) -> AppTest:
    """The chat page in a new session whose back end is ``backend`` (the page's own cache)."""
    at = AppTest.from_file(str(ROOT / "app_pages" / "chat.py"), default_timeout=30)
    at.session_state["backends"] = BackendCache(factory=lambda _settings: backend)
    return at.run()


def ask(at: AppTest, prompt: str) -> AppTest:
    return at.chat_input[0].set_value(prompt).run()


def infos(at: AppTest) -> list[str]:
    return [i.value for i in at.info]


def captions(at: AppTest) -> str:
    return " ".join(c.value for c in at.caption)


@pytest.fixture
def scripted(chat_env):
    return ScriptedBackend()


def test_reasoning_is_shown_apart_and_never_sent_back(scripted):
    at = ask(page_with(scripted), "reasoning")
    turn = at.session_state["chat"].turns[-1]
    assert turn.content == "2 + 2 = 4." and "The user asks" in turn.reasoning
    (thinking,) = [e for e in at.expander if e.label.startswith("Thought for")]
    assert "The user asks for 2 + 2." in " ".join(m.value for m in thinking.markdown)
    assert "The user asks" not in " ".join(m.value for m in at.chat_message[1].markdown[-1:])
    assert "first thought" in captions(at) and "30 tokens (24 reasoning)" in captions(at)
    ask(at, "next")
    assert "The user asks" not in repr(scripted.histories[-1])
    assert scripted.histories[-1][1] == {"role": "assistant", "content": "2 + 2 = 4."}


def test_a_refusal_is_the_answer_with_a_refused_badge(scripted):
    at = ask(page_with(scripted), "refusal")
    turn = at.session_state["chat"].turns[-1]
    assert (turn.status, turn.content) == ("refused", "I can't help with that.")
    assert "refused" in captions(at)
    assert at.button(key="regenerate") is not None


def test_a_tool_call_says_which_tool_and_that_none_run(scripted):
    at = ask(page_with(scripted), "tool_call")
    assert any("`get_weather`" in i and "runs no tools" in i for i in infos(at))
    assert "tool call" in captions(at)


def test_a_content_filter_finish_is_explained(scripted):
    at = ask(page_with(scripted), "content_filter")
    assert any("content filter" in i for i in infos(at))
    assert "filtered" in captions(at)
    assert at.session_state["chat"].turns[-1].content == "Once upon a"


def test_a_length_finish_offers_continue(scripted):
    at = ask(page_with(scripted), "length")
    assert any("token limit" in i for i in infos(at))
    assert "cut short" in captions(at)
    at.button(key="continue").click().run()
    turns = at.session_state["chat"].turns
    assert [t.role for t in turns] == ["user", "assistant"]
    assert turns[-1].content.startswith("The first part of a long answer")


def test_an_empty_answer_whose_budget_went_to_reasoning_says_so(scripted):
    at = ask(page_with(scripted), "empty_with_reasoning")
    (note,) = [i for i in infos(at) if "reasoning" in i]
    assert "Max tokens" in note and "64 reasoning tokens" in note
    assert at.button(key="retry") is not None  # nothing to continue: Retry


@pytest.mark.parametrize("prompt", ["raise", "raise_at_start", "mistral"])
def test_an_exception_in_the_back_end_never_leaves_the_answer_streaming(scripted, prompt):
    at = ask(page_with(scripted), prompt)
    session = at.session_state["chat"]
    assert not session.streaming
    turn = session.turns[-1]
    assert turn.status == "error" and turn.error.code == "internal"
    assert len(at.error) == 1 and not at.exception
    assert not at.chat_input[0].disabled
    ask(at, "length")  # the next prompt is answered
    assert session.turns[-1].content == "The first part of a long answer"


class FailingStore:
    """Wraps the page's store; writing the partial answer fails, as a full disk would."""

    def __init__(self, inner) -> None:
        self._inner = inner

    def update_partial(self, *_args, **_kwargs):
        raise TypeError("cannot render this")

    def __getattr__(self, name):
        return getattr(self._inner, name)


def test_an_exception_while_rendering_ends_the_answer_as_an_error(scripted):
    scripted.delay_s = 0.3  # long enough for the partial save, which raises, to run
    at = page_with(scripted)
    session = at.session_state["chat"]
    session.store = FailingStore(session.store)
    ask(at, "length")
    assert not session.streaming and not at.exception
    turn = session.turns[-1]
    assert turn.status == "error" and "could not be shown" in turn.error.message
    assert not at.chat_input[0].disabled


def test_each_shape_through_a_gateway_and_the_remote_back_end(chat_env, monkeypatch):
    backend = ScriptedBackend()
    with serve_app(create_app(backend=backend, config=GatewayConfig())) as url:
        monkeypatch.setenv("CHAT_REMOTE_URL", url)
        at = AppTest.from_file(str(ROOT / "app_pages" / "chat.py"), default_timeout=30).run()
        for shape in SHAPES:
            ask(at, shape)
            turn = at.session_state["chat"].turns[-1]
            assert turn.content == "".join(
                e.text for e in SHAPES[shape] if type(e).__name__ == "TextDelta"
            ), shape
        statuses = [t.status for t in at.session_state["chat"].turns if t.role == "assistant"]
        notes = [t.note() for t in at.session_state["chat"].turns if t.role == "assistant"]
    assert statuses == ["complete", "refused", "complete", "complete", "complete", "complete"]
    assert [n is not None for n in notes] == [False, False, True, True, True, True]
    assert at.session_state["chat"].turns[1].reasoning.startswith("The user asks")
