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
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from chat_core.backends.base import Backend
from chat_core.chat.answering import finished_turn, metrics_of, start_answer
from chat_core.chat.live import LIVE_ANSWERS, LiveAnswer, LiveAnswers, RunKind
from chat_core.chat.pricing import ModelPrice, UsageSummary, conversation_usage
from chat_core.chat.turns import ChatTurn
from chat_core.messages import (
    CONTINUE_PROMPT,
    ChatMessage,
    Conversation,
    GenerationParams,
    build_conversation,
)
from chat_core.metrics import SessionStats
from chat_core.runs import Run
from chat_core.storage.records import StoredMessage
from chat_core.storage.store import ChatStore

PARTIAL_SAVE_S = 0.5
Phase = Literal["idle", "streaming", "finished"]

__all__ = ["CONTINUE_PROMPT", "ChatSession", "Phase", "RunKind"]


@dataclass(frozen=True)
class _Answer:
    role: str
    model: str | None
    metrics: Mapping[str, Any]


def _signature(messages: Sequence[StoredMessage]) -> tuple[Any, ...]:
    return tuple((m.id, m.status, len(m.content), m.content[-32:], m.feedback) for m in messages)


@dataclass
class ChatSession:
    """Turns, the live answer (if any), the session's aggregates, and the store link."""

    turns: list[ChatTurn] = field(default_factory=list)
    live: LiveAnswer | None = None
    stats: SessionStats = field(default_factory=SessionStats)
    store: ChatStore | None = None
    conversation_id: str | None = None
    owner: str = ""  # whose chats these are; the store refuses an empty owner
    version: int = 0  # bumped whenever what the page shows changes: stale clicks compare it
    live_answers: LiveAnswers = field(default=LIVE_ANSWERS, repr=False)
    _last_save: float = 0.0
    _signature: tuple[Any, ...] = ()

    # -- the answer's phase --------------------------------------------------------------------
    @property
    def phase(self) -> Phase:
        if self.live is None:
            return "idle"
        return "finished" if self.live.run.finished else "streaming"

    @property
    def streaming(self) -> bool:
        """True while an answer is live (streaming, or finished and not yet in the turns)."""
        return self.live is not None

    @property
    def run(self) -> Run | None:
        return self.live.run if self.live else None

    @property
    def run_kind(self) -> RunKind:
        return self.live.kind if self.live else "new"

    def may_start(self, expected: int | None = None) -> bool:
        """Whether an action may start an answer now (idle, and the chat is as it was drawn)."""
        return self.live is None and (expected is None or expected == self.version)

    def model_history(self, turns: list[ChatTurn] | None = None) -> list[ChatMessage]:
        """What the model is sent: the texts exactly as produced, empty answers left out."""
        chosen = self.turns if turns is None else turns
        return [ChatMessage(t.role, t.content) for t in chosen if t.content]

    def usage(self, prices: Mapping[str, ModelPrice]) -> UsageSummary:
        """Tokens and estimated cost over this conversation's answers."""
        return conversation_usage(
            [_Answer(t.role, t.model, t.metrics_dict) for t in self.turns], prices
        )

    # -- conversations -------------------------------------------------------------------------
    def open(self, conversation_id: str) -> bool:
        """Show a stored conversation, re-attached to its live answer if one is streaming."""
        messages = self._read(conversation_id)
        if messages is None:
            return False
        self._detach()
        self.conversation_id = conversation_id
        self._load(messages)
        return True

    def sync(self) -> bool:
        """Catch up with the store while idle (another tab's turns); True if anything changed."""
        if self.live is not None or self.store is None or self.conversation_id is None:
            return False
        messages = self._read(self.conversation_id)
        if messages is None:  # deleted elsewhere
            self.new_conversation()
            return True
        return self._load(messages)

    def _read(self, conversation_id: str) -> Sequence[StoredMessage] | None:
        if self.store is None:
            return None
        stored = self.store.get_conversation(self.owner, conversation_id)
        if stored is None:
            return None
        last = stored.messages[-1] if stored.messages else None
        if last is not None and last.status == "streaming" and not self.live_answers.get(last.id):
            # Its run may have finished between the read and the look-up: the run stores the
            # final answer before it leaves the registry, so a second read sees it.
            stored = (
                self.store.get_conversation(self.owner, conversation_id) if self.store else None
            )
        return stored.messages if stored is not None else None

    def _load(self, messages: Sequence[StoredMessage]) -> bool:
        signature = _signature(messages)
        if signature == self._signature and self.live is None:
            return False
        turns = [ChatTurn.from_stored(m) for m in messages]
        last = messages[-1] if messages else None
        if last is not None and last.status == "streaming":
            live = self.live_answers.get(last.id)
            if live is not None:
                self.live = live  # re-attach: the page streams it from where it is
                turns.pop()
            else:  # no run is producing it any more: say so, never a frozen "streaming"
                turns[-1].status = "interrupted"
        self.turns = turns
        self._signature = signature
        self._bump()
        return True

    def new_conversation(self) -> None:
        """An empty chat; it is stored once its first prompt is sent."""
        self._detach()
        self.conversation_id = None
        self.turns = []
        self._signature = ()
        self._bump()

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

    def _detach(self) -> None:
        self.live = None  # not a cancel: the run goes on and its finish callback stores it

    def _bump(self) -> None:
        self.version += 1

    # -- sending -------------------------------------------------------------------------------
    def submit(self, prompt: str, backend: Backend, params: GenerationParams) -> Run | None:
        """Validate and send a prompt; raises ValidationError and changes nothing if bad.

        None (nothing sent) while another answer is live.
        """
        conversation = build_conversation(prompt, self.model_history())
        if not self.may_start():
            return None
        message_id = None
        if self.store is not None:
            if self.conversation_id is None:
                self.conversation_id = self.store.create_conversation(self.owner).id
            message_id = self.store.add_message(self.owner, self.conversation_id, "user", prompt).id
        self.turns.append(ChatTurn("user", prompt, message_id=message_id))
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
    ) -> Run | None:
        """Replace a user message and resend it; every later turn is dropped."""
        if not self.may_start(expected) or not 0 <= index < len(self.turns):
            return None
        turn = self.turns[index]
        if turn.role != "user":
            return None
        conversation = build_conversation(text, self.model_history(self.turns[:index]))
        if self.store is not None and turn.message_id is not None:
            self.store.edit_message(self.owner, turn.message_id, text)
        turn.content = text
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
