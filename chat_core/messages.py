"""Chat messages, conversations and generation parameters, with validation and limits.

Everything a back end receives goes through ``build_conversation`` (or the
``Conversation`` constructor), so bad input is refused before any upstream call.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal, cast

from chat_core.errors import LimitError, ValidationError

Role = Literal["system", "user", "assistant", "tool"]
# The roles a wire client may send in ``history``; ``tool`` messages come from this app's
# own tool loop (``chat_core.tools``), with the call they answer.
ROLES: tuple[Role, ...] = ("system", "user", "assistant")

MAX_MESSAGE_CHARS = 32_000
MAX_HISTORY_ITEMS = 100
MAX_TOTAL_CHARS = 400_000
MAX_SYSTEM_CHARS = 8_000
MAX_MODEL_CHARS = 200
MAX_TOKENS_LIMIT = 32_768
MAX_SCHEMA_CHARS = 8_000
MAX_TOOLS_CHARS = 32_000  # the tool definitions of one request, as JSON text
_HISTORY_KEYS = {"role", "content", "tool_calls", "tool_call_id"}
_CALL_KEYS = ("id", "name", "arguments")
REASONING_EFFORTS = ("low", "medium", "high")
# The prompt behind Continue: a real model gets it as is; the offline model recognises it
# and goes on with the answer it had planned (``chat_core.backends.offline``).
CONTINUE_PROMPT = "Continue exactly where your last answer stopped. Do not repeat anything."


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file sent with a prompt, already checked and cleaned (``chat_core.attachments``).

    ``data``: the re-encoded image, the PDF or the text file's bytes; ``text``: a document's
    extracted text (truncated to the per-file budget, with a note), None for an image.
    """

    name: str
    mime: str
    data: bytes = field(repr=False)
    text: str | None = None
    width: int | None = None
    height: int | None = None

    @property
    def is_image(self) -> bool:
        """True for an image (sent as an image part where the model reads them)."""
        return self.mime.startswith("image/")


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A finished tool call of an answer: its id, the tool's name, the arguments' JSON text."""

    id: str
    name: str
    arguments: str

    def to_dict(self) -> dict[str, Any]:
        """The Chat Completions shape of this call (an assistant message's ``tool_calls``)."""
        return {
            "id": self.id,
            "type": "function",
            "function": {"name": self.name, "arguments": self.arguments},
        }


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """One message: a role, its text and (a prompt's) attachments.

    An assistant message may carry the ``tool_calls`` it made; a ``tool`` message is
    the result of one call, named by ``tool_call_id``.
    """

    role: Role
    content: str
    attachments: tuple[Attachment, ...] = ()
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The OpenAI-style (Chat Completions) dict of this message."""
        if self.role == "tool":
            return {"role": "tool", "tool_call_id": self.tool_call_id, "content": self.content}
        if self.tool_calls:
            return {
                "role": self.role,
                "content": self.content or None,  # the API takes null beside tool calls
                "tool_calls": [c.to_dict() for c in self.tool_calls],
            }
        return {"role": self.role, "content": self.content}

    def to_wire(self) -> dict[str, Any]:
        """This message as a wire v1 ``history`` item (``parse_history`` reads it back)."""
        item: dict[str, Any] = {"role": self.role, "content": self.content}
        if self.tool_calls:
            item["tool_calls"] = [
                {"id": c.id, "name": c.name, "arguments": c.arguments} for c in self.tool_calls
            ]
        if self.tool_call_id is not None:
            item["tool_call_id"] = self.tool_call_id
        return item


@dataclass(frozen=True, slots=True)
class GenerationParams:
    """How to generate: model, sampling and limits. ``None`` means the back end's default."""

    model: str | None = None
    temperature: float = 0.7
    max_tokens: int = 1000
    system: str | None = None
    reasoning_effort: str | None = None  # None: the provider's default; else REASONING_EFFORTS
    # Structured output: a JSON schema (as JSON text) the answer must match (chat_core.workbench).
    response_schema: str | None = None
    # Tools the model may call: a JSON list of definitions (chat_core.tools checks them).
    tools: str | None = None

    def __post_init__(self) -> None:
        if self.model is not None and not (0 < len(self.model) <= MAX_MODEL_CHARS):
            raise ValidationError("model", f"model must be 1 to {MAX_MODEL_CHARS} characters")
        if isinstance(self.temperature, bool) or not isinstance(self.temperature, int | float):
            raise ValidationError("temperature", "temperature must be a number")
        if not 0.0 <= float(self.temperature) <= 2.0:
            raise ValidationError("temperature", "temperature must be between 0 and 2")
        if isinstance(self.max_tokens, bool) or not isinstance(self.max_tokens, int):
            raise ValidationError("max_tokens", "max_tokens must be an integer")
        if not 1 <= self.max_tokens <= MAX_TOKENS_LIMIT:
            raise ValidationError(
                "max_tokens", f"max_tokens must be between 1 and {MAX_TOKENS_LIMIT}"
            )
        if self.system is not None and len(self.system) > MAX_SYSTEM_CHARS:
            raise LimitError("system", f"system prompt is over {MAX_SYSTEM_CHARS} characters")
        if self.response_schema is not None and len(self.response_schema) > MAX_SCHEMA_CHARS:
            raise LimitError("response_schema", f"schema is over {MAX_SCHEMA_CHARS} characters")
        if self.tools is not None and len(self.tools) > MAX_TOOLS_CHARS:
            raise LimitError("tools", f"tool definitions are over {MAX_TOOLS_CHARS} characters")
        if self.reasoning_effort is not None and self.reasoning_effort not in REASONING_EFFORTS:
            raise ValidationError(
                "reasoning_effort",
                f"reasoning_effort must be one of {', '.join(REASONING_EFFORTS)}",
            )


@dataclass(frozen=True, slots=True)
class Conversation:
    """The messages sent to a model, oldest first; the last one is the user's prompt
    (or, in a tool loop, the result of the model's last tool call)."""

    messages: tuple[ChatMessage, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if not self.messages:
            raise ValidationError("message", "the conversation is empty")
        if self.messages[-1].role not in ("user", "tool"):
            raise ValidationError("message", "the last message must be the user's")
        if len(self.messages) - 1 > MAX_HISTORY_ITEMS:
            raise LimitError("history", f"history has more than {MAX_HISTORY_ITEMS} items")
        total = sum(len(m.content) for m in self.messages)
        if total > MAX_TOTAL_CHARS:
            raise LimitError("history", f"the conversation is over {MAX_TOTAL_CHARS} characters")

    @property
    def prompt(self) -> str:
        """The text of the last user message."""
        return self.messages[-1].content

    def to_openai(self, system: str | None = None) -> list[dict[str, Any]]:
        """OpenAI-style message dicts, with an optional system prompt first."""
        out: list[dict[str, Any]] = [{"role": "system", "content": system}] if system else []
        out.extend(m.to_dict() for m in self.messages)
        return out


def validate_message(role: object, content: object, *, field_name: str) -> ChatMessage:
    """Check one message's role and content; raise ValidationError naming the field."""
    if role not in ROLES:
        raise ValidationError(f"{field_name}.role", f"role must be one of {', '.join(ROLES)}")
    if not isinstance(content, str):
        raise ValidationError(f"{field_name}.content", "content must be a string")
    if len(content) > MAX_MESSAGE_CHARS:
        raise LimitError(f"{field_name}.content", f"content is over {MAX_MESSAGE_CHARS} characters")
    return ChatMessage(role, content)


def _wire_calls(raw: object, field_name: str) -> tuple[ToolCall, ...]:
    if not isinstance(raw, list) or not raw:
        raise ValidationError(field_name, "tool_calls must be a non-empty list")
    calls = []
    for j, call in enumerate(raw):
        values = [call.get(k) if isinstance(call, Mapping) else None for k in _CALL_KEYS]
        if not all(isinstance(v, str) for v in values):
            raise ValidationError(f"{field_name}[{j}]", "a tool call needs id, name, arguments")
        calls.append(ToolCall(*cast(list[str], values)))
    return tuple(calls)


def _history_item(item: Mapping[str, Any], field_name: str) -> ChatMessage:
    role = item.get("role")
    if role == "tool":  # a tool loop's result: it names the call it answers
        call_id = item.get("tool_call_id")
        if not isinstance(call_id, str) or not call_id:
            raise ValidationError(f"{field_name}.tool_call_id", "a tool message needs tool_call_id")
        content = item.get("content")
        if not isinstance(content, str):
            raise ValidationError(f"{field_name}.content", "content must be a string")
        if len(content) > MAX_MESSAGE_CHARS:
            raise LimitError(
                f"{field_name}.content", f"content is over {MAX_MESSAGE_CHARS} characters"
            )
        return ChatMessage("tool", content, tool_call_id=call_id)
    message = validate_message(role, item.get("content"), field_name=field_name)
    if "tool_calls" in item:
        if role != "assistant":
            raise ValidationError(f"{field_name}.tool_calls", "only an assistant makes tool calls")
        calls = _wire_calls(item["tool_calls"], f"{field_name}.tool_calls")
        return ChatMessage("assistant", message.content, tool_calls=calls)
    return message


def parse_history(items: object) -> list[ChatMessage]:
    """Validate a history list of ``{"role", "content"}`` mappings (as sent on the wire);
    an assistant item may carry ``tool_calls`` and a ``tool`` item its ``tool_call_id``."""
    if not isinstance(items, Sequence) or isinstance(items, str | bytes):
        raise ValidationError("history", "history must be a list of {role, content} objects")
    if len(items) > MAX_HISTORY_ITEMS:
        raise LimitError("history", f"history has more than {MAX_HISTORY_ITEMS} items")
    out: list[ChatMessage] = []
    for i, item in enumerate(items):
        if isinstance(item, ChatMessage):  # checked again; its files were checked when sent
            checked = _history_item(item.to_wire(), f"history[{i}]")
            out.append(replace(checked, attachments=item.attachments))
            continue
        if not isinstance(item, Mapping):
            raise ValidationError(f"history[{i}]", "each history item must be an object")
        extra = set(cast(Mapping[str, Any], item)) - _HISTORY_KEYS
        if extra:
            raise ValidationError(f"history[{i}]", f"unknown key {sorted(extra)[0]!r}")
        out.append(_history_item(cast(Mapping[str, Any], item), f"history[{i}]"))
    return out


def build_conversation(
    message: object,
    history: Iterable[object] | object = (),
    attachments: tuple[Attachment, ...] = (),
) -> Conversation:
    """Validate a prompt and its history into a Conversation (files: a prompt may be empty).

    ``message`` may be None when the history ends with tool results: the model goes on
    from them (the tool loop's next step)."""
    if message is None and isinstance(history, Sequence) and not isinstance(history, str | bytes):
        past = parse_history(history)
        if past and past[-1].role == "tool":
            return Conversation(tuple(past))
    if not isinstance(message, str):
        raise ValidationError("message", "message must be a string")
    if not message.strip() and not attachments:
        raise ValidationError("message", "message is empty")
    if len(message) > MAX_MESSAGE_CHARS:
        raise LimitError("message", f"message is over {MAX_MESSAGE_CHARS} characters")
    if isinstance(history, Iterable) and not isinstance(history, str | bytes | Mapping | Sequence):
        history = list(history)  # a generator of messages
    past = parse_history(history)
    return Conversation((*past, ChatMessage("user", message, attachments)))
