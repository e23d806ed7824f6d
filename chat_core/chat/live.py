"""Answers streaming in this process, by stored message id: how any page finds a live run.

A run outlives the page that started it (a rerun, a switch of chats, a reload, a
second tab). The stored message only says ``streaming``; this registry says which
``Run`` is producing it, so whoever opens the conversation next re-attaches to the
live answer instead of showing a frozen one. An entry leaves the registry once the
run's finish callback has stored the final answer, so a page that finds no entry
for a ``streaming`` row knows the row is an orphan (a crash, a failed write).

It is process-wide on purpose, like the background loop the runs pull on: the
Streamlit app is one process, and its sessions are threads of it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Literal

from chat_core.metrics import StreamMetrics
from chat_core.runs import Run

RunKind = Literal["new", "retry", "continue"]
# Before the first token, and after this long without one, the page says it is waiting.
STALL_NOTICE_S = 1.0


@dataclass(frozen=True)
class LiveAnswer:
    """A run producing a stored answer: what a page needs to show it from anywhere."""

    run: Run
    message_id: Hashable | None
    kind: RunKind
    prefix: str  # the text a Continue appends to ("" otherwise)
    model: str | None
    reasoning_prefix: str = ""  # a continued answer's earlier reasoning
    earlier_metrics: StreamMetrics | None = None  # a continued answer's earlier part's

    @property
    def text(self) -> str:
        """The whole answer so far, a continued answer's earlier text included."""
        return join_continuation(self.prefix, self.run.text) if self.prefix else self.run.text


class LiveAnswers:
    """Thread-safe map of message id -> live answer."""

    def __init__(self) -> None:
        self._answers: dict[Hashable, LiveAnswer] = {}
        self._lock = threading.Lock()

    def add(self, answer: LiveAnswer) -> None:
        if answer.message_id is None:
            return
        with self._lock:
            self._answers[answer.message_id] = answer

    def get(self, message_id: Hashable | None) -> LiveAnswer | None:
        if message_id is None:
            return None
        with self._lock:
            return self._answers.get(message_id)

    def discard(self, answer: LiveAnswer) -> None:
        """Forget ``answer`` (only it: a newer run for the same message stays)."""
        with self._lock:
            if self._answers.get(answer.message_id) is answer:
                del self._answers[answer.message_id]

    def __len__(self) -> int:
        with self._lock:
            return len(self._answers)


LIVE_ANSWERS = LiveAnswers()


def join_continuation(prefix: str, more: str) -> str:
    """A continued answer: ``more`` appended to ``prefix``, never glued across a sentence."""
    if not prefix or not more or prefix[-1].isspace() or more[0].isspace():
        return prefix + more
    # "...the end.Next" or "...and so" + "on": a model restarting mid-sentence needs a space;
    # a model continuing mid-word ("exam" + "ple") starts lower case right after a letter.
    if prefix[-1] in ".!?:;," or (more[0].isupper() and prefix[-1].isalnum()):
        return f"{prefix} {more}"
    return prefix + more


def waiting_seconds(run: Run, now: float | None = None) -> float | None:
    """How long the run has waited for text, when the page should say so; else None.

    From the start until the first text arrives, always; later, after a gap of
    ``STALL_NOTICE_S`` without any event (a stall).
    """
    now = time.monotonic() if now is None else now
    if run.finished:
        return None
    if not run.text_bytes:
        return max(0.0, now - run.created_at)
    last = run.arrival_times[-1] if run.arrival_times else run.created_at
    waited = now - last
    return waited if waited >= STALL_NOTICE_S else None


def waiting_label(seconds: float | None) -> str:
    """The status line while streaming: 'Waiting for the model… 3 s', or 'Answering…'."""
    if seconds is None:
        return "Answering…"
    return f"Waiting for the model… {int(seconds)} s"
