"""ChatSession: the chat page's state without Streamlit."""

import itertools

import pytest

from chat_core import GenerationParams, OfflineBackend, ValidationError
from chat_core.chat.render import NEW_BLOCK, render_run
from chat_core.chat.session import CONTINUE_PROMPT, ChatSession
from tests.support.runs import iter_run

PARAMS = GenerationParams()


def wait_finished(session: ChatSession):
    run = session.run
    assert run is not None
    for _ in iter_run(run):
        pass
    return session.finish()


def shown_text(chunks) -> str:
    return "".join(c for c in chunks if c is not NEW_BLOCK)


def test_answer_lands_in_history_with_metrics():
    session = ChatSession()
    session.submit("What is SSE?", OfflineBackend(5000), PARAMS)
    assert session.streaming
    turn = wait_finished(session)
    assert turn.status == "complete" and "What is SSE?" in turn.content
    assert turn.metrics.chunks > 3 and not turn.metrics.tokens_estimated
    assert [t.role for t in session.turns] == ["user", "assistant"]
    assert session.stats.requests == 1 and session.stats.completions == 1


def test_bad_prompt_changes_nothing():
    session = ChatSession()
    with pytest.raises(ValidationError):
        session.submit("   ", OfflineBackend(5000), PARAMS)
    assert session.turns == [] and not session.streaming


def test_rerun_mid_answer_reattaches_and_keeps_every_token():
    """A Streamlit rerun abandons the page's generator; the run goes on."""
    session = ChatSession()
    session.submit("/lorem 200", OfflineBackend(400), PARAMS)
    first_view = render_run(session.run, frame_s=0.0)
    seen = shown_text(itertools.islice(first_view, 5))  # the page is interrupted here
    first_view.close()
    assert seen and not session.run.finished
    second_view = shown_text(render_run(session.run, frame_s=0.05))  # the next script run
    turn = session.finish()
    assert turn.status == "complete"
    assert second_view.replace("!\\[", "![") == turn.content
    assert turn.metrics.chunks == 200


def test_stop_keeps_the_partial_answer_marked_stopped():
    session = ChatSession()
    session.submit("/lorem 400", OfflineBackend(200), PARAMS)
    run = session.run
    for seq, _event in iter_run(run):
        if seq == 10:
            session.stop()
    turn = session.finish()
    assert turn.status == "stopped"
    assert len(turn.content) > 0 and run.last_seq < 400
    assert "stopped" not in turn.content.lower()


def test_error_keeps_text_clean_and_retry_replaces_the_answer():
    session = ChatSession()
    backend = OfflineBackend(5000)
    session.submit("/error server after 5 times 1\nhello", backend, PARAMS)
    failed = wait_finished(session)
    assert failed.status == "error" and failed.error.code == "server" and failed.resumable
    assert "error" not in failed.content.lower() and len(failed.content) > 0
    session.retry(backend, PARAMS)
    again = wait_finished(session)
    assert again.status == "complete"
    assert [t.role for t in session.turns] == ["user", "assistant"]
    assert session.stats.errors_by_code == {"server": 1}


def test_history_sent_to_the_model_is_exactly_the_produced_text():
    session = ChatSession()
    backend = OfflineBackend(5000)
    session.submit("/error timeout after 3 times 1\nfirst", backend, PARAMS)
    partial = wait_finished(session)
    history = session.model_history()
    assert history[-1].content == partial.content  # no " [connection lost]", no error text
    session.continue_answer(backend, PARAMS)
    merged = wait_finished(session)
    assert merged.content.startswith(partial.content) and len(merged.content) > len(partial.content)
    assert len(session.turns) == 2  # continued in place
    assert all(m.content != CONTINUE_PROMPT for m in session.model_history())


# -- with a store ------------------------------------------------------------------------------
def stored_session(tmp_path):
    from chat_core.storage.store import ChatStore

    return ChatSession(store=ChatStore(tmp_path / "chats.sqlite3"), owner="browser:me")


def test_answer_is_stored_even_when_no_page_is_watching(tmp_path):
    """A closed tab abandons the page; the run's own finish callback stores the answer."""
    session = stored_session(tmp_path)
    run = session.submit("/echo kept for later", OfflineBackend(5000), PARAMS)
    conversation_id = session.conversation_id
    session.new_conversation()  # the page moved on (or went away) mid-answer
    for _ in iter_run(run):
        pass
    stored = session.store.get_conversation(session.owner, conversation_id)
    assert [(m.role, m.content, m.status) for m in stored.messages] == [
        ("user", "/echo kept for later", "complete"),
        ("assistant", "kept for later", "complete"),
    ]
    assert stored.messages[1].metrics["chunks"] > 0


def test_partial_answer_is_saved_while_streaming(tmp_path):
    session = stored_session(tmp_path)
    run = session.submit("/lorem 300", OfflineBackend(300), PARAMS)
    for seq, _event in iter_run(run):
        if seq == 20:
            break
    session.save_partial(now=10_000.0)
    answer = session.store.get_conversation(session.owner, session.conversation_id).messages[1]
    assert answer.status == "streaming" and answer.content and run.text.startswith(answer.content)
    session.stop()
    for _ in iter_run(run):
        pass
    session.finish()
    answer = session.store.get_message(session.owner, answer.id)
    assert answer.status == "stopped" and answer.content == run.text


def test_continue_and_feedback_are_stored_on_the_same_message(tmp_path):
    session = stored_session(tmp_path)
    backend = OfflineBackend(5000)
    session.submit("/error timeout after 4 times 1\nhello", backend, PARAMS)
    partial = wait_finished(session)
    session.set_feedback(1, -1)
    session.continue_answer(backend, PARAMS)
    merged = wait_finished(session)
    stored = session.store.get_conversation(session.owner, session.conversation_id).messages
    assert len(stored) == 2
    assert stored[1].content == merged.content and merged.content.startswith(partial.content)
    assert stored[1].status == "complete" and stored[1].feedback == -1


def test_reasoning_is_kept_beside_the_text_and_never_sent_back():
    from tests.support.fakes import ScriptedBackend

    backend = ScriptedBackend()
    session = ChatSession()
    session.submit("reasoning", backend, PARAMS)
    turn = wait_finished(session)
    assert turn.content == "2 + 2 = 4."
    assert turn.reasoning == "The user asks for 2 + 2.\n\nThat is **4**."
    assert turn.metrics.reasoning_tokens == 24
    assert [m.content for m in session.model_history()] == ["reasoning", "2 + 2 = 4."]
    session.submit("tool_call", backend, PARAMS)
    tool = wait_finished(session)
    assert tool.tool_names == ("get_weather",) and tool.metrics.finish_reason == "tool_calls"
    assert "runs no tools" in tool.note().message
    # An empty answer (the tool call) is left out of the history too.
    assert [m.content for m in session.model_history()] == ["reasoning", "2 + 2 = 4.", "tool_call"]


def test_reasoning_finish_and_refusal_are_stored_and_reloaded(tmp_path):
    from tests.support.fakes import ScriptedBackend

    backend = ScriptedBackend()
    session = stored_session(tmp_path)
    for prompt in ("reasoning", "refusal", "tool_call", "length"):
        session.submit(prompt, backend, PARAMS)
        wait_finished(session)
    reopened = ChatSession(store=session.store, owner=session.owner)
    assert reopened.open(session.conversation_id)
    answers = [t for t in reopened.turns if t.role == "assistant"]
    assert answers[0].reasoning == "The user asks for 2 + 2.\n\nThat is **4**."
    assert answers[0].metrics.reasoning_tokens == 24
    assert answers[1].status == "refused" and answers[1].content == "I can't help with that."
    assert answers[2].tool_names == ("get_weather",) and "get_weather" in answers[2].note().message
    assert answers[3].finish_reason == "length" and answers[3].resumable
    assert "The user asks" not in repr(reopened.model_history())


def test_after_continue_the_caption_counts_the_whole_answer(tmp_path):
    session = stored_session(tmp_path)
    backend = OfflineBackend(5000)
    session.submit("/error timeout after 30 times 1\n/lorem 80", backend, PARAMS)
    partial = wait_finished(session)
    assert partial.metrics.tokens == 30
    session.continue_answer(backend, PARAMS)
    merged = wait_finished(session)
    assert merged.metrics.tokens > 30 + 20  # both parts, not only the continuation
    assert f"{merged.metrics.tokens_label} tokens" in merged.metrics.caption()
    stored = session.store.get_conversation(session.owner, session.conversation_id).messages[1]
    assert stored.metrics["tokens"] == merged.metrics.tokens  # a reload shows the same
