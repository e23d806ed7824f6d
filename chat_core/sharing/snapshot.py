"""A share link's snapshot: what of a chat it shows, as plain data (pure, no I/O).

The snapshot is the chat's active path (what its owner sees), frozen: prompts,
answers, each answer's status, metrics and model. Reasoning and the system
prompt only when the owner ticks them. Attachments have their place here
(``attachments_of``) and stay out unless ticked; this app stores none yet.
Text stays text: the page renders it through the same inert markdown as the
chat (no raw HTML, no remote images), so nothing here needs escaping.

``read_snapshot`` reads a stored snapshot back defensively: a revoked link's
erased snapshot, or anything else that is not one, reads as None, which the
page shows as the one "not available" page.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chat_core.errors import ChatError
from chat_core.storage.records import (
    TIME_FORMAT,
    NewMessage,
    StoredConversation,
    StoredMessage,
    check_flat_object,
)

__all__ = [
    "SNAPSHOT_FORMAT",
    "ShareOptions",
    "SharedChat",
    "SharedMessage",
    "attachments_of",
    "build_snapshot",
    "continued_messages",
    "read_snapshot",
    "shared_on",
    "stored_messages",
]

SNAPSHOT_FORMAT = "streaming-chat/share"
SNAPSHOT_VERSION = 1


@dataclass(frozen=True)
class ShareOptions:
    """The owner's ticks in the Share dialog; all off by default."""

    reasoning: bool = False
    system: bool = False
    attachments: bool = False

    def as_dict(self) -> dict[str, bool]:
        return {"reasoning": self.reasoning, "system": self.system, "attachments": self.attachments}

    @classmethod
    def from_dict(cls, data: object) -> ShareOptions:
        ticks = data if isinstance(data, Mapping) else {}
        return cls(*(ticks.get(k) is True for k in ("reasoning", "system", "attachments")))


@dataclass(frozen=True)
class SharedMessage:
    """One message of a snapshot, as the shared page shows it."""

    role: str
    content: str
    status: str = "complete"
    model: str | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    reasoning: str = ""
    created_at: str | None = None


@dataclass(frozen=True)
class SharedChat:
    """A snapshot read back: what the shared page shows and "Continue this chat" copies."""

    title: str
    app: str
    shared_at: str
    messages: tuple[SharedMessage, ...]
    system: tuple[str, ...] = ()
    options: ShareOptions = ShareOptions()


def attachments_of(message: StoredMessage, options: ShareOptions) -> list[dict[str, Any]]:
    """A message's attachments for the snapshot: none unless ticked.

    The place where stored attachments (names, kinds; bytes only when ticked) join a
    snapshot once messages carry them; today no message does.
    """
    return []


def _system_prompts(conversation: StoredConversation) -> list[str]:
    """The system prompts the path's answers were given, each once, in order."""
    seen: list[str] = []
    for message in conversation.messages:
        system = message.params.get("system") if message.role == "assistant" else None
        if isinstance(system, str) and system.strip() and system not in seen:
            seen.append(system)
    return seen


def build_snapshot(
    conversation: StoredConversation, options: ShareOptions, *, app: str, shared_at: str
) -> dict[str, Any]:
    """The snapshot of a conversation's active path, as JSON-ready data."""
    messages = []
    for m in conversation.messages:
        item: dict[str, Any] = {
            "role": m.role,
            "content": m.content,
            # a snapshot never looks live: an answer still streaming is shown as cut off
            "status": "interrupted" if m.status == "streaming" else m.status,
            "model": m.model,
            "metrics": dict(m.metrics) if m.role == "assistant" else {},
            "created_at": m.created_at,
        }
        if options.reasoning and m.reasoning:
            item["reasoning"] = m.reasoning
        if options.attachments:
            item["attachments"] = attachments_of(m, options)
        messages.append(item)
    return {
        "format": SNAPSHOT_FORMAT,
        "version": SNAPSHOT_VERSION,
        "title": conversation.title,
        "app": app,
        "shared_at": shared_at,
        "options": options.as_dict(),
        "system": _system_prompts(conversation) if options.system else [],
        "messages": messages,
    }


def _text(value: object, default: str = "") -> str:
    return value if isinstance(value, str) else default


def _message(data: object) -> SharedMessage | None:
    if not isinstance(data, Mapping) or data.get("role") not in ("user", "assistant"):
        return None
    try:
        metrics = check_flat_object(data.get("metrics"), "metrics")
    except ChatError:
        metrics = {}
    model = data.get("model")
    return SharedMessage(
        role=data["role"],
        content=_text(data.get("content")),
        status=_text(data.get("status"), "complete"),
        model=model if isinstance(model, str) and model else None,
        metrics=metrics,
        reasoning=_text(data.get("reasoning")),
        created_at=data.get("created_at") if isinstance(data.get("created_at"), str) else None,
    )


def read_snapshot(data: object) -> SharedChat | None:
    """A stored snapshot as a ``SharedChat``; None for anything else (an erased one too)."""
    if not isinstance(data, Mapping) or data.get("format") != SNAPSHOT_FORMAT:
        return None
    raw = data.get("messages")
    if not isinstance(raw, list):
        return None
    messages = tuple(m for m in map(_message, raw) if m is not None)
    system = data.get("system")
    return SharedChat(
        title=_text(data.get("title"), "Shared chat"),
        app=_text(data.get("app")),
        shared_at=_text(data.get("shared_at")),
        messages=messages,
        system=tuple(s for s in system if isinstance(s, str)) if isinstance(system, list) else (),
        options=ShareOptions.from_dict(data.get("options")),
    )


def continued_messages(chat: SharedChat) -> list[NewMessage]:
    """The snapshot as messages of a new chat of the visitor's (a chain, as shown).

    Statuses, models and metrics come along, so the copy reads like the shared page;
    the reasoning only when the owner shared it.
    """
    return [
        NewMessage(
            role=m.role,
            content=m.content,
            status=m.status,
            model=m.model,
            metrics=m.metrics,
            created_at=m.created_at,
            reasoning=m.reasoning,
        )
        for m in chat.messages
    ]


def stored_messages(chat: SharedChat) -> tuple[StoredMessage, ...]:
    """The snapshot's messages as records, so the page shows them as the chat shows its own.

    Ids and positions are only their places in the snapshot: no database id leaves the
    owner's chat.
    """
    return tuple(
        StoredMessage(
            id=i,
            conversation_id="",
            position=i,
            role=m.role,  # type: ignore[arg-type]  # read_snapshot keeps user and assistant
            content=m.content,
            status=m.status,  # type: ignore[arg-type]
            model=m.model,
            params={},
            metrics=m.metrics,
            feedback=0,
            created_at=m.created_at or "",
            reasoning=m.reasoning,
        )
        for i, m in enumerate(chat.messages, 1)
    )


def shared_on(stamp: str) -> str:
    """ "Shared on 4 Dec 2026" from the snapshot's time (UTC); plain "Shared" if unreadable."""
    try:
        moment = datetime.strptime(stamp, TIME_FORMAT)
    except ValueError:
        return "Shared"
    return f"Shared on {moment.day} {moment:%b %Y}"
