"""Stored conversations and messages, and the checks every write goes through.

Pure: no I/O. ``store.py`` persists these records and ``transfer.py`` imports
them from files; both validate through the ``check_*`` functions here, so a
field is refused with the same short ``ValidationError`` / ``LimitError``
(naming the field, e.g. ``messages[3].role``) whichever way it came in. The
limits reuse those of ``messages.py``; an answer may be longer than a prompt.

Owners: every conversation belongs to one ``owner`` string. Visitor identities
always carry a kind prefix with a colon (``browser:...``, ``user:...``), so the
reserved owners below, which have none, can never be a visitor:
``LEGACY_OWNER`` holds the chats of a database from before owners existed
(hidden from every visitor), ``SHARED_OWNER`` is the one owner every visitor
shares when ``CHAT_SHARED_HISTORY=1`` (a demo store, on purpose).
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, cast

from chat_core.backends.directives import parse_directives
from chat_core.errors import LimitError, ValidationError
from chat_core.messages import (
    MAX_MESSAGE_CHARS,
    MAX_MODEL_CHARS,
    MAX_SYSTEM_CHARS,
    MAX_TOKENS_LIMIT,
    ROLES,
    ChatMessage,
    Role,
)
from chat_core.metrics import AnswerStatus

STATUSES: tuple[AnswerStatus, ...] = (
    "streaming",
    "complete",
    "stopped",
    "interrupted",
    "error",
    "refused",
)
FINAL_STATUSES: tuple[AnswerStatus, ...] = STATUSES[1:]
FEEDBACK_VALUES = (-1, 0, 1)
DEFAULT_TITLE = "New chat"
MAX_TITLE_CHARS = 200
AUTO_TITLE_CHARS = 48
MAX_ANSWER_CHARS = MAX_TOKENS_LIMIT * 8  # an answer may be max_tokens long; ~4 chars a token, x2
MAX_MESSAGES_PER_CONVERSATION = 5000  # every version of every message (a tree), not one path
MAX_FIELD_KEYS = 64  # params / metrics: flat objects of JSON scalars
MAX_FIELD_STRING_CHARS = MAX_SYSTEM_CHARS  # an answer's params keep its system prompt whole
_TIME_PATTERN = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
LEGACY_OWNER = "legacy"
SHARED_OWNER = "shared"
MAX_OWNER_CHARS = 200
MAX_CONVERSATION_ID_CHARS = 32


# -- records -----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class StoredMessage:
    """One stored message. ``status`` is UI chrome, never part of ``content``."""

    id: int
    conversation_id: str
    position: int  # 0, 1, 2, ... within the conversation, without gaps
    role: Role
    content: str
    status: AnswerStatus
    model: str | None
    params: dict[str, Any]
    metrics: dict[str, Any]
    feedback: int  # -1 thumbs down, 0 none, 1 thumbs up
    created_at: str
    reasoning: str = ""  # the model's reasoning summary, kept apart from the answer
    parent_id: int | None = None  # the message before it on its branch; None: a first prompt


@dataclass(frozen=True, slots=True)
class ConversationSummary:
    """A row of the sidebar list."""

    id: str
    title: str
    created_at: str
    updated_at: str
    message_count: int


@dataclass(frozen=True, slots=True)
class StoredConversation:
    """A conversation's active path (root -> leaf); ``siblings``: each path message with other
    versions -> all of them, oldest first; ``tree``: every message, when asked for."""

    id: str
    title: str
    created_at: str
    updated_at: str
    messages: tuple[StoredMessage, ...]
    siblings: Mapping[int, tuple[int, ...]] = field(default_factory=dict)
    message_count: int = -1  # -1: the path is all there is
    tree: tuple[StoredMessage, ...] = ()

    @property
    def total_messages(self) -> int:
        return len(self.messages) if self.message_count < 0 else self.message_count

    def history(self) -> list[ChatMessage]:
        """The messages to send back to a model: every non-empty text, without status notes."""
        return [ChatMessage(m.role, m.content) for m in self.messages if m.content.strip()]


@dataclass(frozen=True, slots=True)
class NewMessage:
    """A message to import; times default to the import's time."""

    role: str
    content: str
    status: str = "complete"
    model: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    metrics: Mapping[str, Any] = field(default_factory=dict)
    feedback: int = 0
    created_at: str | None = None
    reasoning: str = ""
    # an import's tree: its parent's index in the list; None: a first prompt; default: a chain
    parent: int | Literal["previous"] | None = "previous"


# -- validation (shared by store.py and transfer.py) ---------------------------------------
def check_text(value: object, field_name: str) -> str:
    """A string SQLite can store as UTF-8 (a JSON escape can smuggle in a lone surrogate)."""
    if not isinstance(value, str):
        raise ValidationError(field_name, f"{field_name} must be a string")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ValidationError(field_name, f"{field_name} has an invalid character") from exc
    return value


def check_owner(owner: object, field_name: str = "owner") -> str:
    """An owner identity: 1 to MAX_OWNER_CHARS characters."""
    text = check_text(owner, field_name)
    if not 0 < len(text) <= MAX_OWNER_CHARS:
        raise ValidationError(field_name, f"{field_name} must be 1 to {MAX_OWNER_CHARS} characters")
    return text


def new_conversation_id() -> str:
    """An unguessable conversation id for URLs (128 random bits, 22 URL-safe characters)."""
    return secrets.token_urlsafe(16)


def time_text(moment: datetime, field_name: str = "at") -> str:
    """An aware datetime in the stored format (UTC); a naive one is refused, not guessed."""
    if not isinstance(moment, datetime) or moment.utcoffset() is None:
        raise ValidationError(field_name, f"{field_name} must be a timezone-aware datetime")
    return moment.astimezone(UTC).strftime(TIME_FORMAT)


def check_title(title: object, field_name: str = "title") -> str:
    """A title with its whitespace collapsed, 1 to MAX_TITLE_CHARS characters."""
    clean = " ".join(check_text(title, field_name).split())
    if not clean:
        raise ValidationError(field_name, f"{field_name} is empty")
    if len(clean) > MAX_TITLE_CHARS:
        raise LimitError(field_name, f"{field_name} is over {MAX_TITLE_CHARS} characters")
    return clean


def check_role(role: object, field_name: str) -> Role:
    if role not in ROLES:
        raise ValidationError(field_name, f"{field_name} must be one of {', '.join(ROLES)}")
    return role


def check_content(role: Role, content: object, field_name: str) -> str:
    """Content within the limit for its role (answers may be longer than prompts)."""
    text = check_text(content, field_name)
    limit = MAX_ANSWER_CHARS if role == "assistant" else MAX_MESSAGE_CHARS
    if len(text) > limit:
        raise LimitError(field_name, f"{field_name} is over {limit} characters")
    if role == "user" and not text.strip():
        raise ValidationError(field_name, f"{field_name} is empty")
    return text


def check_status(
    status: object, field_name: str, allowed: Sequence[str] = STATUSES
) -> AnswerStatus:
    if status not in allowed:
        raise ValidationError(field_name, f"{field_name} must be one of {', '.join(allowed)}")
    return cast(AnswerStatus, status)


def check_feedback(value: object, field_name: str = "feedback") -> int:
    if isinstance(value, bool) or value not in FEEDBACK_VALUES:
        raise ValidationError(field_name, f"{field_name} must be -1, 0 or 1")
    return value


def check_model(model: object, field_name: str = "model") -> str | None:
    if model is None:
        return None
    name = check_text(model, field_name)
    if not 0 < len(name) <= MAX_MODEL_CHARS:
        raise ValidationError(field_name, f"{field_name} must be 1 to {MAX_MODEL_CHARS} characters")
    return name


def check_flat_object(value: object, field_name: str) -> dict[str, Any]:
    """A flat JSON object of scalars, as ``params`` and ``metrics`` are: nothing nested."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ValidationError(field_name, f"{field_name} must be an object")
    if len(value) > MAX_FIELD_KEYS:
        raise LimitError(field_name, f"{field_name} has more than {MAX_FIELD_KEYS} keys")
    out: dict[str, Any] = {}
    for key, item in value.items():
        if not 0 < len(check_text(key, f"{field_name} key")) <= 64:
            raise ValidationError(field_name, f"{field_name} keys must be 1 to 64 characters")
        name = f"{field_name}.{key}"
        if isinstance(item, str) and len(check_text(item, name)) > MAX_FIELD_STRING_CHARS:
            raise LimitError(name, f"{name} is over {MAX_FIELD_STRING_CHARS} characters")
        if isinstance(item, float) and not (abs(item) < float("inf")):
            raise ValidationError(name, f"{name} must be a finite number")
        if isinstance(item, int) and not isinstance(item, bool) and abs(item) > 2**53:
            raise ValidationError(name, f"{name} is too large")
        if item is not None and not isinstance(item, str | int | float):
            raise ValidationError(name, f"{name} must be a string, number, boolean or null")
        out[key] = item
    return out


def check_time(value: object, field_name: str) -> str:
    """A time as this module writes it: ``2025-01-31T12:00:00.000000Z`` (UTC)."""
    ok = isinstance(value, str) and _TIME_PATTERN.fullmatch(value)
    try:
        if ok:
            datetime.strptime(cast(str, value), TIME_FORMAT)
    except ValueError:
        ok = None
    if not ok:
        raise ValidationError(
            field_name, f"{field_name} must be a UTC time like 2025-01-31T12:00:00.000000Z"
        )
    return cast(str, value)


def title_from_prompt(prompt: str, max_chars: int = AUTO_TITLE_CHARS) -> str:
    """A short title from a first prompt: directives skipped, cut at a word, with an ellipsis."""
    text = " ".join((parse_directives(prompt).text or prompt).split())
    if len(text) > max_chars:
        cut = text[: max_chars - 1]
        text = (cut.rsplit(" ", 1)[0] if " " in cut[max_chars // 2 :] else cut).rstrip() + "…"
    return text or DEFAULT_TITLE


def now_text() -> str:
    """The current UTC time in the stored format."""
    return time_text(datetime.now(UTC))


def dumps_flat(value: Mapping[str, Any]) -> str:
    # sorted keys: the stored text, and so every export, is the same whatever the caller's order
    return json.dumps(
        value, sort_keys=True, ensure_ascii=False, allow_nan=False, separators=(",", ":")
    )


def message_from_row(row: Mapping[Any, Any], stale_before: str) -> StoredMessage:
    """A stored row as a record; a streaming row quiet since before ``stale_before`` reads
    as ``interrupted`` (its writer is gone), whether or not recovery has marked it yet."""
    status = row["status"]
    if status == "streaming" and row["updated_at"] < stale_before:
        status = "interrupted"
    return StoredMessage(
        id=row["id"],
        conversation_id=row["conversation_id"],
        position=row["position"],
        role=row["role"],
        content=row["content"],
        status=status,
        model=row["model"],
        params=json.loads(row["params"]),
        metrics=json.loads(row["metrics"]),
        feedback=row["feedback"],
        created_at=row["created_at"],
        reasoning=row["reasoning"],
        parent_id=row["parent_id"],
    )
