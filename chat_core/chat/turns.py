"""One message as the chat page shows it: the text, plus chrome beside it (never inside it)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from chat_core.chat.notes import FinishNote, finish_note
from chat_core.chat.pricing import ModelPrice, answer_tokens, estimate_cost
from chat_core.events import StreamError
from chat_core.messages import Attachment, Role
from chat_core.metrics import AnswerStatus, StreamMetrics
from chat_core.storage.records import StoredMessage
from chat_core.tools.steps import ToolStep
from chat_core.tree import Versions, versions


@dataclass
class ChatTurn:
    """One message as shown: the text, plus chrome (status, metrics, error, feedback).

    ``reasoning`` is the model's thinking, shown apart and never sent back to it.
    """

    role: Role
    content: str
    status: AnswerStatus = "complete"
    metrics: StreamMetrics | None = None
    error: StreamError | None = None
    model: str | None = None
    message_id: int | None = None
    feedback: int = 0
    reasoning: str = ""
    tool_names: tuple[str, ...] = ()
    tool_steps: list[ToolStep] = field(default_factory=list)  # its calls, each with a result
    # every version of this message (itself included, oldest first) when it has others
    siblings: tuple[int, ...] = ()

    def versions(self) -> Versions | None:
        """Where this message sits among its versions (``‹ 2/3 ›``), when it has others."""
        if len(self.siblings) < 2 or self.message_id not in self.siblings:
            return None
        return versions(self.siblings, self.message_id)

    params: dict[str, Any] = field(default_factory=dict)  # stored beside it (a template's)
    # a prompt's files as sent (a new turn); stored turns read theirs through the session
    attachments: tuple[Attachment, ...] = ()

    @property
    def finish_reason(self) -> str | None:
        return self.metrics.finish_reason if self.metrics else None

    @property
    def resumable(self) -> bool:
        """Whether the UI offers Continue/Retry for this answer (a cut one too)."""
        if self.role != "assistant":
            return False
        cut = self.status == "complete" and self.finish_reason == "length"
        return cut or self.status in ("stopped", "interrupted", "error")

    def note(self) -> FinishNote | None:
        """Why this answer ended, when that needs saying."""
        if self.role != "assistant" or self.status != "complete" or self.tool_steps:
            return None  # calls are shown as steps, each asking for its result
        return finish_note(
            self.finish_reason,
            text=self.content,
            reasoning=self.reasoning,
            reasoning_tokens=self.metrics.reasoning_tokens if self.metrics else None,
            tool_names=self.tool_names,
        )

    @property
    def shown_status(self) -> AnswerStatus:
        """The status to show: a connection that never gave a word failed, it was not cut."""
        if self.status == "interrupted" and not self.content:
            return "error"
        return self.status

    @property
    def retry_helps(self) -> bool:
        """Whether Retry is worth offering: not for a key that was refused or a failing request."""
        if not self.resumable:
            return False
        return self.error is None or self.error.retryable

    @property
    def continuable(self) -> bool:
        """Whether Continue is offered: there is text to go on from, and trying again can help."""
        return self.retry_helps and bool(self.content)

    @property
    def metrics_dict(self) -> dict[str, Any]:
        return self.metrics.to_dict() if self.metrics else {}

    def cost_usd(self, prices: Mapping[str, ModelPrice]) -> float | None:
        """This answer's estimated cost, or None when its model has no price."""
        if self.role != "assistant" or self.metrics is None or not self.model:
            return None
        if not self.metrics.tokens:  # nothing was generated: no cost to show, not "$0.0000"
            return None
        prompt, completion, _ = answer_tokens(self.metrics_dict)
        return estimate_cost(self.model, prompt, completion, prices)

    @classmethod
    def from_stored(cls, message: StoredMessage, siblings: tuple[int, ...] = ()) -> ChatTurn:
        metrics = StreamMetrics.from_dict(message.metrics) if message.metrics else None
        error = None
        if message.metrics.get("error_code") and message.status in ("error", "interrupted"):
            error = StreamError(
                message.metrics["error_code"],
                str(message.metrics.get("error_message") or "The answer failed."),
                bool(message.metrics.get("error_retryable", True)),
            )
        return cls(
            message.role,
            message.content,
            message.status,
            metrics,
            error,
            message.model,
            message.id,
            message.feedback,
            reasoning=message.reasoning,
            tool_names=_stored_tools(message.metrics),
            siblings=siblings,
            params=dict(message.params) if message.role == "user" else {},
        )


def _stored_tools(metrics: Mapping[str, Any]) -> tuple[str, ...]:
    """The tool names a stored answer asked for (a JSON list in one string)."""
    try:
        names = json.loads(metrics.get("tool_names") or "[]")
    except (TypeError, ValueError):
        return ()
    return tuple(n for n in names if isinstance(n, str)) if isinstance(names, list) else ()
