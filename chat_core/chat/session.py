"""A chat session's state, without Streamlit: turns, the live answer, and what users do.

The chat page keeps one ``ChatSession`` in ``st.session_state``. Its answer is in
one of three phases, which every control reads:

    idle        no answer streams: prompts, Retry, Edit, Clear may start one
    streaming   a run produces the answer: only Stop acts on it
    finished    the run is done; ``finish()`` moves it into the turns (back to idle)

An action that is not allowed in the current phase, or that was shown for an
older state of the chat (``expected`` is the ``version`` the page drew the
button with: a click that arrives late), is ignored and returns None: a late
click is never an exception.

The run lives on in the process (``chat_core.chat.live``), so a rerun, a switch
of chats, a reload or a second tab re-attaches to it. With a ``ChatStore`` the
session writes through: the prompt when it is sent, the answer as a
``streaming`` row grown by ``save_partial`` and finalised by a finish callback
on the run itself, so an answer still lands in the database when no page is
watching. Status and errors are kept beside the text, never inside it.

Here: what users do. The fields, the phase and the stored conversation shown
are ``SessionState`` (``session_state.py``); how an answer's run starts and
ends as a turn is ``answering.py``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chat_core.backends.base import Backend
from chat_core.chat.answering import finished_turn, metrics_of, start_answer
from chat_core.chat.live import RunKind
from chat_core.chat.session_state import Phase, SessionState
from chat_core.chat.turns import ChatTurn
from chat_core.messages import CONTINUE_PROMPT, Conversation, GenerationParams, build_conversation
from chat_core.runs import Run

PARTIAL_SAVE_S = 0.5

__all__ = ["CONTINUE_PROMPT", "ChatSession", "Phase", "RunKind"]


@dataclass
class ChatSession(SessionState):
    """A session's state (``SessionState``) and what users do: send, retry, edit, stop, clear."""

    # -- the conversation ----------------------------------------------------------------------
    def delete_conversation(self, *, expected: int | None = None) -> None:
        """Delete this chat (stopping its answer) and show an empty one."""
        if expected is not None and expected != self.version:
            return
        self.stop()
        if self.store is not None and self.conversation_id is not None:
            self.store.delete(self.owner, self.conversation_id)
        self.new_conversation()

    def clear(self, *, expected: int | None = None) -> list[ChatTurn] | None:
        """Stop any answer and empty this chat (stored messages too); returns what was cleared."""
        if expected is not None and expected != self.version:
            return None
        self.stop()
        self.live = None
        if self.store is not None and self.conversation_id is not None:
            self.store.truncate_after(self.owner, self.conversation_id, -1)
        cleared, self.turns = self.turns, []
        self._signature = ()
        self._bump()
        return cleared

    # -- sending -------------------------------------------------------------------------------
    def submit(
        self,
        prompt: str,
        backend: Backend,
        params: GenerationParams,
        *,
        stored_params: Mapping[str, Any] | None = None,
    ) -> Run | None:
        """Validate and send a prompt; raises ValidationError and changes nothing if bad.

        None (nothing sent) while another answer is live. ``stored_params``: kept beside
        the prompt (a ``{{variable}}`` template and its values, chat_core.workbench).
        """
        conversation = build_conversation(prompt, self.model_history())
        if not self.may_start():
            return None
        message_id = None
        if self.store is not None:
            if self.conversation_id is None:
                self.conversation_id = self.store.create_conversation(self.owner).id
            message_id = self.store.add_message(
                self.owner, self.conversation_id, "user", prompt, params=stored_params
            ).id
        self.turns.append(
            ChatTurn("user", prompt, message_id=message_id, params=dict(stored_params or {}))
        )
        return self._start(backend, conversation, params, "new")

    def retry(
        self, backend: Backend, params: GenerationParams, *, expected: int | None = None
    ) -> Run | None:
        """Answer the last prompt again, replacing the last answer (also: regenerate)."""
        turns = self.turns[:-1] if self.turns and self.turns[-1].role == "assistant" else self.turns
        if not self.may_start(expected) or not turns or turns[-1].role != "user":
            return None
        conversation = build_conversation(turns[-1].content, self.model_history(turns[:-1]))
        self._truncate_after(len(turns) - 1)
        return self._start(backend, conversation, params, "retry")

    def edit(
        self,
        index: int,
        text: str,
        backend: Backend,
        params: GenerationParams,
        *,
        expected: int | None = None,
        stored_params: Mapping[str, Any] | None = None,
    ) -> Run | None:
        """Replace a user message and resend it; every later turn is dropped.

        ``stored_params``: the message's new template and values (None keeps the old).
        """
        if not self.may_start(expected) or not 0 <= index < len(self.turns):
            return None
        turn = self.turns[index]
        if turn.role != "user":
            return None
        conversation = build_conversation(text, self.model_history(self.turns[:index]))
        if self.store is not None and turn.message_id is not None:
            self.store.edit_message(self.owner, turn.message_id, text, params=stored_params)
        turn.content = text
        if stored_params is not None:
            turn.params = dict(stored_params)
        self._truncate_after(index)
        return self._start(backend, conversation, params, "retry")

    def continue_answer(
        self, backend: Backend, params: GenerationParams, *, expected: int | None = None
    ) -> Run | None:
        """Ask the model to go on from a stopped or interrupted answer; the text is appended."""
        if not self.may_start(expected):
            return None
        if not self.turns or not self.turns[-1].resumable or not self.turns[-1].content:
            return None
        conversation = build_conversation(CONTINUE_PROMPT, self.model_history())
        return self._start(backend, conversation, params, "continue")

    def set_feedback(self, index: int, value: int) -> None:
        """Thumbs up (1), down (-1) or none (0) on an answer."""
        if not 0 <= index < len(self.turns):
            return
        turn = self.turns[index]
        turn.feedback = value
        if self.store is not None and turn.message_id is not None:
            self.store.update_message(self.owner, turn.message_id, feedback=value)

    def _truncate_after(self, index: int) -> None:
        if self.store is not None and self.conversation_id is not None:
            message_id = self.turns[index].message_id
            stored = (
                self.store.get_message(self.owner, message_id) if message_id is not None else None
            )
            if stored is not None:
                self.store.truncate_after(self.owner, self.conversation_id, stored.position)
        del self.turns[index + 1 :]

    def _start(
        self, backend: Backend, conversation: Conversation, params: GenerationParams, kind: RunKind
    ) -> Run:
        # A continued answer leaves the turns while it streams: the live answer shows it
        # whole, once (issue: it was shown twice).
        continued = self.turns.pop() if kind == "continue" else None
        live = start_answer(
            backend,
            conversation,
            params,
            kind,
            continued=continued,
            store=self.store,
            owner=self.owner,
            conversation_id=self.conversation_id,
            registry=self.live_answers,
        )
        self.live = live
        self._bump()
        return live.run

    # -- while streaming -----------------------------------------------------------------------
    def save_partial(self, *, now: float | None = None) -> None:
        """Store the text so far, at most every PARTIAL_SAVE_S (called while rendering)."""
        now = time.monotonic() if now is None else now
        live = self.live
        if self.store is None or live is None or live.message_id is None or live.run.finished:
            return
        if now - self._last_save < PARTIAL_SAVE_S:
            return
        self._last_save = now
        self.store.update_partial(self.owner, live.message_id, live.text)  # type: ignore[arg-type]

    def finish(self) -> ChatTurn | None:
        """Move a finished answer into the turns (back to idle); None while it streams."""
        live = self.live
        if live is None or not live.run.finished:
            return None
        metrics = metrics_of(live.run)
        self.stats.add(metrics)
        turn = finished_turn(live, metrics)
        self.turns.append(turn)
        self.live = None
        self._signature = ()  # the store now holds the final answer: re-read it next sync
        self._bump()
        return turn

    def stop(self) -> None:
        """Cancel the live answer; the partial text is kept, marked stopped. Late: a no-op."""
        if self.live is not None:
            self.live.run.cancel()
