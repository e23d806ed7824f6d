"""A chat session's state, without Streamlit: turns, the active run, and what users do.

The chat page keeps one ``ChatSession`` in ``st.session_state``. The active
``Run`` lives here, so a rerun (any widget click) re-attaches to it instead of
losing the answer. Status and errors are kept beside the text, never inside it:
the history sent back to the model is exactly the text the model produced.

With a ``ChatStore`` the session writes through: the prompt when it is sent,
the answer as a ``streaming`` row grown by ``save_partial`` and finalised by a
finish callback on the run itself, so an answer still lands in the database
when the browser tab is closed mid-stream.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from chat_core.backends.base import Backend
from chat_core.chat.pricing import ModelPrice, UsageSummary, conversation_usage
from chat_core.chat.turns import ChatTurn
from chat_core.events import Done, reasoning_text
from chat_core.logs import log_stream_end, log_stream_start
from chat_core.messages import ChatMessage, Conversation, GenerationParams, build_conversation
from chat_core.metrics import SessionStats, StreamMetrics, answer_status, measure
from chat_core.runs import Run, start_run
from chat_core.storage.store import ChatStore

CONTINUE_PROMPT = "Continue exactly where your last answer stopped. Do not repeat anything."
PARTIAL_SAVE_S = 0.5
RunKind = Literal["new", "retry", "continue"]


@dataclass(frozen=True)
class _Answer:
    role: str
    model: str | None
    metrics: Mapping[str, Any]


def _stored_metrics(metrics: StreamMetrics, run: Run) -> dict[str, Any]:
    out = metrics.to_dict()
    if (error := run.error) is not None:
        out |= {"error_message": error.message, "error_retryable": error.retryable}
    if tools := _tool_names(run):
        out["tool_names"] = json.dumps(list(tools))  # stored metrics are flat: one string
    return out


def _joined(earlier: str, later: str) -> str:
    """A continued answer's reasoning: each part's, one paragraph apart."""
    return "\n\n".join(r for r in (earlier, later) if r)


def _tool_names(run: Run) -> tuple[str, ...]:
    done = run.events[-1] if run.events else None
    return done.tool_names if isinstance(done, Done) else ()


@dataclass
class ChatSession:
    """Turns, the streaming run (if any), the session's aggregates, and the store link."""

    turns: list[ChatTurn] = field(default_factory=list)
    run: Run | None = None
    run_kind: RunKind = "new"
    run_model: str | None = None
    stats: SessionStats = field(default_factory=SessionStats)
    store: ChatStore | None = None
    conversation_id: str | None = None
    owner: str = ""  # whose chats these are; the store refuses an empty owner
    _run_prefix: str = ""
    _run_message_id: int | None = None
    _run_metrics: Callable[[Run], StreamMetrics] | None = None
    _last_save: float = 0.0

    @property
    def streaming(self) -> bool:
        return self.run is not None

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
        """Show a stored conversation; a streaming answer goes on and is saved where it was."""
        stored = self.store.get_conversation(self.owner, conversation_id) if self.store else None
        if stored is None:
            return False
        self._detach()
        self.conversation_id = stored.id
        self.turns = [ChatTurn.from_stored(m) for m in stored.messages]
        return True

    def new_conversation(self) -> None:
        """An empty chat; it is stored once its first prompt is sent."""
        self._detach()
        self.conversation_id = None
        self.turns = []

    def delete_conversation(self) -> None:
        if self.run is not None:
            self.run.cancel()
        if self.store is not None and self.conversation_id is not None:
            self.store.delete(self.owner, self.conversation_id)
        self.new_conversation()

    def clear(self) -> None:
        """Stop any answer and empty this chat (its stored messages too)."""
        self.stop()
        self.run = None
        if self.store is not None and self.conversation_id is not None:
            self.store.truncate_after(self.owner, self.conversation_id, -1)
        self.turns.clear()

    def _detach(self) -> None:
        self.run = None  # not a cancel: the run's finish callback still stores its answer

    # -- sending -------------------------------------------------------------------------------
    def submit(self, prompt: str, backend: Backend, params: GenerationParams) -> Run:
        """Validate and send a prompt; raises ValidationError and changes nothing if bad."""
        conversation = build_conversation(prompt, self.model_history())
        if self.run is not None:
            raise RuntimeError("an answer is already streaming")
        message_id = None
        if self.store is not None:
            if self.conversation_id is None:
                self.conversation_id = self.store.create_conversation(self.owner).id
            message_id = self.store.add_message(self.owner, self.conversation_id, "user", prompt).id
        self.turns.append(ChatTurn("user", prompt, message_id=message_id))
        return self._start(backend, conversation, params, "new")

    def retry(self, backend: Backend, params: GenerationParams) -> Run:
        """Answer the last prompt again, replacing the last answer (also: regenerate)."""
        turns = self.turns[:-1] if self.turns and self.turns[-1].role == "assistant" else self.turns
        if not turns or turns[-1].role != "user":
            raise ValueError("there is no prompt to answer again")
        conversation = build_conversation(turns[-1].content, self.model_history(turns[:-1]))
        self._truncate_after(len(turns) - 1)
        return self._start(backend, conversation, params, "retry")

    def edit(self, index: int, text: str, backend: Backend, params: GenerationParams) -> Run:
        """Replace a user message and resend it; every later turn is dropped."""
        turn = self.turns[index]
        if turn.role != "user":
            raise ValueError("only your own messages can be edited")
        conversation = build_conversation(text, self.model_history(self.turns[:index]))
        if self.store is not None and turn.message_id is not None:
            self.store.edit_message(self.owner, turn.message_id, text)
        turn.content = text
        del self.turns[index + 1 :]
        return self._start(backend, conversation, params, "retry")

    def continue_answer(self, backend: Backend, params: GenerationParams) -> Run:
        """Ask the model to go on from a stopped or interrupted answer; the text is appended."""
        if not self.turns or not self.turns[-1].resumable or not self.turns[-1].content:
            raise ValueError("there is no partial answer to continue")
        conversation = build_conversation(CONTINUE_PROMPT, self.model_history())
        return self._start(backend, conversation, params, "continue")

    def set_feedback(self, index: int, value: int) -> None:
        """Thumbs up (1), down (-1) or none (0) on an answer."""
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
        if self.run is not None:
            raise RuntimeError("an answer is already streaming")

        def metrics_of(run: Run) -> StreamMetrics:
            return measure(run.created_at, run.events, run.arrival_times, reconnects=run.reconnects)

        prefix = self.turns[-1].content if kind == "continue" else ""
        earlier_reasoning = self.turns[-1].reasoning if kind == "continue" else ""
        message_id = self._start_stored_answer(kind, params)
        run = start_run(lambda: backend.astream(conversation, params))
        log_stream_start("chat", run.id, backend=backend.name, prompt=conversation.prompt)
        store, owner = self.store, self.owner

        def on_finish(run: Run) -> None:
            metrics = metrics_of(run)
            log_stream_end("chat", run.id, metrics, run.text_bytes)
            if store is not None and message_id is not None:
                store.finish_message(
                    owner,
                    message_id,
                    prefix + run.text,
                    status=metrics.status,
                    metrics=_stored_metrics(metrics, run),
                    reasoning=_joined(earlier_reasoning, reasoning_text(run.events)),
                )

        run.add_finish_callback(on_finish)
        self.run, self.run_kind, self.run_model = run, kind, params.model
        self._run_prefix, self._run_message_id, self._run_metrics = prefix, message_id, metrics_of
        return run

    def _start_stored_answer(self, kind: RunKind, params: GenerationParams) -> int | None:
        if self.store is None or self.conversation_id is None:
            return None
        if kind == "continue" and self.turns[-1].message_id is not None:
            message_id = self.turns[-1].message_id
            self.store.update_message(self.owner, message_id, status="streaming")
            return message_id
        settings: dict[str, Any] = {
            "temperature": params.temperature,
            "max_tokens": params.max_tokens,
        }
        if params.system:
            settings["system"] = params.system
        return self.store.start_answer(
            self.owner, self.conversation_id, model=params.model, params=settings
        ).id

    # -- while streaming -----------------------------------------------------------------------
    def save_partial(self, *, now: float | None = None) -> None:
        """Store the text so far, at most every PARTIAL_SAVE_S (called while rendering)."""
        now = time.monotonic() if now is None else now
        if self.store is None or self._run_message_id is None or self.run is None:
            return
        if now - self._last_save < PARTIAL_SAVE_S:
            return
        self._last_save = now
        self.store.update_partial(
            self.owner, self._run_message_id, self._run_prefix + self.run.text
        )

    def finish(self) -> ChatTurn | None:
        """Move a finished run into the turns; None while it is still streaming."""
        run = self.run
        if run is None or not run.finished:
            return None
        metrics = (
            self._run_metrics(run)
            if self._run_metrics
            else measure(run.created_at, run.events, run.arrival_times)
        )
        self.stats.add(metrics)
        turn = ChatTurn(
            "assistant",
            run.text,
            answer_status(run.events),
            metrics,
            run.error,
            self.run_model,
            self._run_message_id,
            reasoning=reasoning_text(run.events),
            tool_names=_tool_names(run),
        )
        if self.run_kind == "continue" and self.turns and self.turns[-1].role == "assistant":
            turn.content = self._run_prefix + turn.content
            turn.reasoning = _joined(self.turns[-1].reasoning, turn.reasoning)
            self.turns[-1] = turn
        else:
            self.turns.append(turn)
        self.run = None
        return turn

    def stop(self) -> None:
        """Cancel the streaming answer; the partial text is kept, marked stopped."""
        if self.run is not None:
            self.run.cancel()
