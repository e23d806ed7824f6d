"""A chat session's state, without Streamlit: turns, the active run, retry and continue.

The chat page keeps one ``ChatSession`` in ``st.session_state``. The active
``Run`` lives here, so a rerun (any widget click) re-attaches to it instead of
losing the answer. Status and errors are kept beside the text, never inside it:
the history sent back to the model is exactly the text the model produced.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from chat_core.backends.base import Backend
from chat_core.events import StreamError
from chat_core.messages import ChatMessage, Conversation, GenerationParams, Role, build_conversation
from chat_core.metrics import AnswerStatus, SessionStats, StreamMetrics, answer_status, measure
from chat_core.runs import Run, start_run

CONTINUE_PROMPT = "Continue exactly where your last answer stopped. Do not repeat anything."
RunKind = Literal["new", "retry", "continue"]


@dataclass
class ChatTurn:
    """One message as shown: the text, plus chrome (status, metrics, error)."""

    role: Role
    content: str
    status: AnswerStatus = "complete"
    metrics: StreamMetrics | None = None
    error: StreamError | None = None
    model: str | None = None

    @property
    def resumable(self) -> bool:
        """Whether the UI offers Continue/Retry for this answer."""
        return self.role == "assistant" and self.status in ("stopped", "interrupted", "error")


@dataclass
class ChatSession:
    """Turns, the streaming run (if any) and the session's aggregates."""

    turns: list[ChatTurn] = field(default_factory=list)
    run: Run | None = None
    run_kind: RunKind = "new"
    run_model: str | None = None
    stats: SessionStats = field(default_factory=SessionStats)

    @property
    def streaming(self) -> bool:
        return self.run is not None

    def model_history(self, turns: list[ChatTurn] | None = None) -> list[ChatMessage]:
        """What the model is sent: the texts exactly as produced, empty answers left out."""
        return [
            ChatMessage(t.role, t.content)
            for t in (self.turns if turns is None else turns)
            if t.content
        ]

    def submit(self, prompt: str, backend: Backend, params: GenerationParams) -> Run:
        """Validate and send a prompt; raises ValidationError and changes nothing if bad."""
        conversation = build_conversation(prompt, self.model_history())
        self.turns.append(ChatTurn("user", prompt))
        return self._start(backend, conversation, params, "new")

    def retry(self, backend: Backend, params: GenerationParams) -> Run:
        """Answer the last prompt again, replacing the last answer (also: regenerate)."""
        if self.turns and self.turns[-1].role == "assistant":
            self.turns.pop()
        if not self.turns or self.turns[-1].role != "user":
            raise ValueError("there is no prompt to answer again")
        prompt = self.turns[-1].content
        conversation = build_conversation(prompt, self.model_history(self.turns[:-1]))
        return self._start(backend, conversation, params, "retry")

    def continue_answer(self, backend: Backend, params: GenerationParams) -> Run:
        """Ask the model to go on from a stopped or interrupted answer; the text is appended."""
        if not self.turns or not self.turns[-1].resumable or not self.turns[-1].content:
            raise ValueError("there is no partial answer to continue")
        conversation = build_conversation(CONTINUE_PROMPT, self.model_history())
        return self._start(backend, conversation, params, "continue")

    def _start(
        self, backend: Backend, conversation: Conversation, params: GenerationParams, kind: RunKind
    ) -> Run:
        if self.run is not None:
            raise RuntimeError("an answer is already streaming")
        self.run = start_run(lambda: backend.astream(conversation, params))
        self.run_kind, self.run_model = kind, params.model
        return self.run

    def finish(self) -> ChatTurn | None:
        """Move a finished run into the turns; None while it is still streaming."""
        run = self.run
        if run is None or not run.finished:
            return None
        metrics = measure(run.created_at, run.events, run.arrival_times)
        self.stats.add(metrics)
        turn = ChatTurn(
            "assistant", run.text, answer_status(run.events), metrics, run.error, self.run_model
        )
        if self.run_kind == "continue" and self.turns and self.turns[-1].role == "assistant":
            turn.content = self.turns[-1].content + turn.content
            self.turns[-1] = turn
        else:
            self.turns.append(turn)
        self.run = None
        return turn

    def stop(self) -> None:
        """Cancel the streaming answer; the partial text is kept, marked stopped."""
        if self.run is not None:
            self.run.cancel()

    def clear(self) -> None:
        self.stop()
        self.run = None
        self.turns.clear()
