"""The chat page's bottom: the prompt input with Stop beside it, and the answer streaming live.

Page-side (Streamlit) code only; the stream is read by ``render_run`` and
``render_reasoning`` in ``chat_core``.
"""

import logging

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from app_pages.attachments_view import INPUT_OPTIONS, keep_sent_files
from app_pages.tool_steps import LiveToolSteps
from chat_core import (
    ChatSession,
    answer_blocks,
    reasoning_first,
    render_reasoning,
    render_run,
    thinking_label,
    waiting_label,
    waiting_line,
    waiting_seconds,
)

PROMPT_KEY = "prompt"
KEPT_PROMPT = "kept_prompt"
KEPT_NOTE = "kept_note"
KEPT_IS_ERROR = "kept_is_error"
NOT_SENT = (
    "**Not sent:** an answer was streaming in this chat (perhaps in another tab). Your "
    "text is back in the input: send it once the answer has ended, or press Stop."
)


def keep_prompt(prompt: str, why: str = NOT_SENT, *, error: bool = False) -> None:
    """Put a prompt that could not be sent back into the input (next run), saying why."""
    st.session_state[KEPT_PROMPT] = prompt
    st.session_state[KEPT_NOTE] = why
    st.session_state[KEPT_IS_ERROR] = error


def prompt_input(session: ChatSession, can_answer: bool) -> tuple[str | None, DeltaGenerator]:
    """The input pinned at the bottom, and its row, where ``stop_button`` puts Stop.

    The input stays enabled while an answer streams: a disabled textarea loses focus on
    every send, and what the person types next went nowhere. Only sending waits: a
    prompt sent mid-answer comes back into the input (``keep_prompt``) with the reason,
    which stays until the next send.
    """
    kept = st.session_state.pop(KEPT_PROMPT, None)
    if kept is not None:  # chat_input takes a value set before it is drawn (its docs)
        st.session_state[PROMPT_KEY] = kept
    with st.bottom:
        if note := st.session_state.get(KEPT_NOTE):
            if st.session_state.get(KEPT_IS_ERROR):
                st.error(note, icon=":material/block:")
            else:
                st.warning(note, icon=":material/schedule_send:")
        row = st.container(horizontal=True, vertical_alignment="bottom")
    with row:
        # Files and pasted images too (attachments_view): the text comes back here, the files
        # wait in the session state for the page to check them.
        prompt = keep_sent_files(
            st.chat_input(
                "Ask anything, or attach files",
                key=PROMPT_KEY,
                disabled=not can_answer,
                **INPUT_OPTIONS,
            )
        )
    if prompt is not None:
        st.session_state.pop(KEPT_NOTE, None)
    return prompt or st.session_state.pop("starter_prompt", None), row


def stop_button(row: DeltaGenerator, session: ChatSession) -> None:
    """Stop beside the input while an answer streams (drawn after a prompt is sent: its own)."""
    if session.streaming:
        row.button(
            "Stop",
            icon=":material/stop_circle:",
            key="stop",
            type="primary",
            on_click=session.stop,
        )


def yield_point() -> None:
    """Reading session state lets Streamlit handle a click (Stop) while the stream is quiet."""
    st.session_state.get("chat")


def stream_answer(session: ChatSession, leftovers: int, backend=None) -> None:
    """The live answer, drawn afresh, then the places of leftover messages emptied."""
    live = session.live
    # Streamlit's frontend gives a new block the children of the block drawn at its place
    # last run when both have the same type. Every other child of the chat area is a chat
    # message; this holder is a plain container, so the old answer drawn here (its error,
    # thumbs, Retry) is not inherited while the new one streams. Later leftovers are emptied.
    holder = st.container()
    for _ in range(leftovers):
        st.empty()
    with holder, st.chat_message("assistant"):
        thinking = st.empty()
        body = st.container(key="streaming-answer")
        # calls stream as steps, their arguments growing
        tool_calls = LiveToolSteps(st.container(key="live-tool-calls").empty())
        status = st.container(key="answer-status").empty()
        st.html('<div class="answer-row-placeholder"></div>')  # where the actions will be
        shown: list[tuple[str, str | None] | None] = [None]
        thinking_now = [False]  # thoughts streaming: the model is not silent, say nothing

        def show_status() -> None:
            seconds = waiting_seconds(live.run)  # the host named, and any retry
            label = (
                "" if thinking_now[0] else waiting_line(seconds, backend) or waiting_label(seconds)
            )
            notice = session.unsaved_notice()  # the database away: the answer goes on
            if (label, notice) != shown[0]:  # a websocket message only when the words change
                shown[0] = (label, notice)
                if not label and not notice:
                    status.empty()
                    return
                with status.container():
                    if label:
                        st.caption(label)
                    if notice:
                        st.warning(notice, icon=":material/database_off:")

        def on_idle() -> None:
            yield_point()
            show_status()

        def on_event(_seq, event) -> None:
            tool_calls.feed(event)
            session.save_partial()
            show_status()

        show_status()
        try:  # reasoning live in its own element (collapsed once the answer starts)
            after = 0
            if reasoning_first(live.run, on_idle=on_idle):
                with thinking.status(thinking_label(None, streaming=True), expanded=True) as box:
                    thinking_now[0] = True
                    show_status()
                    thoughts = render_reasoning(live.run, on_idle=on_idle, on_event=on_event)
                    st.write_stream(thoughts, cursor="▌")
                    thinking_now[0] = False
                    box.update(
                        label=thinking_label(thoughts.thinking_s), state="complete", expanded=False
                    )
                after = thoughts.seq
            with body:
                for piece in answer_blocks(live.prefix):  # a Continue goes on in place
                    st.markdown(piece)
                chunks = render_run(live.run, after, on_idle=on_idle, on_event=on_event)
                st.write_stream(chunks, cursor="▌")
        except Exception:  # never a traceback on screen, never an answer left streaming
            logging.getLogger(__name__).exception("the streaming answer could not be shown")
            live.run.fail("The answer could not be shown; the text so far is kept.")
    session.finish()
    st.rerun()
