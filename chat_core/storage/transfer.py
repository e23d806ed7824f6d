"""Export a conversation as Markdown or JSON; import a JSON export as a new conversation.

    conv = store.get_conversation(owner, conversation_id, whole_tree=True)
    st.download_button("JSON", export_json(conv), export_filename(conv, "json"))
    st.download_button("Markdown", export_markdown(conv), export_filename(conv, "md"))
    summary = import_json(store, owner, uploaded_file.getvalue())   # a new conversation of owner's

The JSON export (format ``streaming-chat/conversation``, version 2)::

    {"format", "version", "title", "created_at", "updated_at", "active_leaf",
     "messages": [{"id", "parent", "role", "content", "reasoning", "status", "model",
                   "params", "metrics", "feedback", "created_at", "attachments"?,
                   "tool_calls"?}, ...]}

``attachments`` (a prompt's files, when it has any): ``[{"name", "mime", "data" (base64 of
the stored bytes), "width", "height", "text"}]``; an import checks each file is what its
``mime`` says and stores the bytes as they are, so they come back byte-identical.
``tool_calls`` only on an answer that made some: ``[{"id", "name", "arguments",
"result", "is_error"}]`` in order (``result`` null until answered).

It carries the whole tree (every version, oldest first) and the message shown
last: ``id`` numbers the messages of the file from 1 and ``parent`` names one of
them (null: a version of the first message). It holds no database ids, and an
import keeps its times, so export -> import -> export gives the same bytes.
Version 1 files (one linear chat) import as a chain. An answer still streaming
is exported as ``interrupted``: a file is a snapshot, and must not look live.

Imports come from anywhere, so they are checked strictly before and while
writing: the size (``MAX_IMPORT_BYTES``), UTF-8, JSON syntax, nesting depth,
duplicate keys, unknown keys, types, roles, statuses, the tree (``tree_file.py``),
the limits of ``messages.py`` and ``records.py``. Any failure raises
``ValidationError`` or ``LimitError`` naming the field (``messages[3].role``),
and nothing is written: the whole import is one transaction. Only ``format``,
``version`` and each message's ``role`` and ``content`` are required.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, NoReturn

from chat_core.attachments.parts import describe as describe_file
from chat_core.errors import LimitError, ValidationError
from chat_core.messages import Attachment, ToolCall
from chat_core.storage.attachments import files_from_json, files_to_json
from chat_core.storage.records import (
    FINAL_STATUSES,
    MAX_MESSAGES_PER_CONVERSATION,
    ConversationSummary,
    NewMessage,
    StoredConversation,
    StoredMessage,
    check_feedback,
    check_flat_object,
    check_model,
    check_role,
    check_status,
    check_text,
    check_time,
    check_title,
)
from chat_core.storage.store import ChatStore
from chat_core.storage.tool_calls import MAX_STORED_CALLS, StoredToolCall
from chat_core.storage.tree_file import file_tree

EXPORT_FORMAT = "streaming-chat/conversation"
EXPORT_VERSION = 2
READ_VERSIONS = (1, 2)
MAX_IMPORT_BYTES = 10 * 1024 * 1024
MAX_IMPORT_MESSAGES = MAX_MESSAGES_PER_CONVERSATION
NOT_AN_EXPORT = f'Not a chat exported from this app (no "format": "{EXPORT_FORMAT}" in it).'
_TOP_KEYS = frozenset(
    {"format", "version", "title", "created_at", "updated_at", "active_leaf", "messages"}
)
_MESSAGE_KEYS = frozenset(
    {
        "id",
        "parent",
        "role",
        "content",
        "reasoning",
        "status",
        "model",
        "params",
        "metrics",
        "feedback",
        "created_at",
        "attachments",
        "tool_calls",
    }
)
_CALL_KEYS = frozenset({"id", "name", "arguments", "result", "is_error"})
_NOTES = {
    "stopped": "Stopped before the end of the answer.",
    "interrupted": "Interrupted: the connection or the app went away before the end of the answer.",
    "streaming": "Interrupted: the connection or the app went away before the end of the answer.",
    "error": "The answer failed",
    "refused": "The model declined to answer.",
}


# -- export ------------------------------------------------------------------------------------
def _exported_status(message: StoredMessage) -> str:
    return "interrupted" if message.status == "streaming" else message.status


def conversation_to_dict(
    conversation: StoredConversation,
    files: Mapping[int, Sequence[Attachment]] | None = None,
    tool_calls: Mapping[int, list[StoredToolCall]] | None = None,
) -> dict[str, Any]:
    """The JSON export as a dict, keys in their export order: the whole tree when the
    conversation was read with ``whole_tree=True``, else its active path. ``files``: each
    message's attachments (``ChatStore.attachments_of``), carried in base64; ``tool_calls``
    (``ChatStore.tool_calls_of``) beside the answers that made them."""
    every = conversation.tree or conversation.messages
    number = {m.id: i for i, m in enumerate(every, 1)}
    files = files or {}
    calls = tool_calls or {}
    return {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "title": conversation.title,
        "created_at": conversation.created_at,
        "updated_at": conversation.updated_at,
        "active_leaf": number[conversation.messages[-1].id] if conversation.messages else None,
        "messages": [
            {
                "id": number[m.id],
                "parent": number.get(m.parent_id),  # type: ignore[arg-type]
                "role": m.role,
                "content": m.content,
                "reasoning": m.reasoning,
                "status": _exported_status(m),
                "model": m.model,
                "params": dict(sorted(m.params.items())),
                "metrics": dict(sorted(m.metrics.items())),
                "feedback": m.feedback,
                "created_at": m.created_at,
            }
            | ({"attachments": files_to_json(files[m.id])} if files.get(m.id) else {})
            | _exported_calls(calls.get(m.id))
            for m in every
        ],
    }


def _exported_calls(calls: list[StoredToolCall] | None) -> dict[str, Any]:
    if not calls:
        return {}  # a file without tool calls is byte for byte what it was before them
    return {
        "tool_calls": [
            {
                "id": c.call.id,
                "name": c.call.name,
                "arguments": c.call.arguments,
                "result": c.result,
                "is_error": c.is_error,
            }
            for c in calls
        ]
    }


def export_json(
    conversation: StoredConversation,
    files: Mapping[int, Sequence[Attachment]] | None = None,
    tool_calls: Mapping[int, list[StoredToolCall]] | None = None,
) -> str:
    """The conversation as JSON text (UTF-8, two-space indent, ending with a newline)."""
    exported = conversation_to_dict(conversation, files, tool_calls)
    return json.dumps(exported, ensure_ascii=False, indent=2) + "\n"


def export_markdown(
    conversation: StoredConversation, files: Mapping[int, Sequence[Attachment]] | None = None
) -> str:
    """The active path as Markdown, counting other versions; statuses are notes, not text;
    attachments named (the JSON export carries their bytes)."""
    count = len(conversation.messages)
    others = conversation.total_messages - count
    lines = [
        f"# {conversation.title}",
        "",
        f"*{count} message{'s' if count != 1 else ''} · started {conversation.created_at}"
        f" · updated {conversation.updated_at}*",
    ]
    if others > 0:
        lines += [
            "",
            f"*This is the version shown last; other versions hold {others} more"
            f" message{'s' if others != 1 else ''} (the JSON export has them all).*",
        ]
    for m in conversation.messages:
        heading = m.role.capitalize() + (
            f" · {m.model}" if m.role == "assistant" and m.model else ""
        )
        lines += ["", "---", "", f"### {heading}", ""]
        if m.reasoning.strip():  # collapsed in renderers that know <details>, quoted in the rest
            quoted = "\n".join(f"> {line}".rstrip() for line in m.reasoning.strip().splitlines())
            lines += ["<details><summary>Reasoning</summary>", "", quoted, "", "</details>", ""]
        lines.append(m.content.rstrip("\n") if m.content.strip() else "*(no text)*")
        if names := [describe_file(a) for a in (files or {}).get(m.id, ())]:
            lines += ["", *(f"- 📎 {name}" for name in names)]
        note = _NOTES.get(m.status)
        if note and m.status == "error":
            code = m.metrics.get("error_code")
            note += f" ({code})." if isinstance(code, str) else "."
        if note:
            lines += ["", f"> **Note:** {note}"]
        if m.feedback:
            lines += ["", "> Rated 👍 helpful" if m.feedback > 0 else "> Rated 👎 not helpful"]
    return "\n".join(lines) + "\n"


def export_filename(conversation: StoredConversation, extension: str) -> str:
    """A safe file name from the title, e.g. ``why-is-the-sky-blue.json``."""
    slug = "-".join(re.findall(r"[a-z0-9]+", conversation.title.lower()))[:60].strip("-")
    return f"{slug or 'chat'}.{extension}"


# -- import ------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ConversationImport:
    """A validated JSON export, ready for ``ChatStore.import_conversation``."""

    title: str | None
    created_at: str | None
    updated_at: str | None
    messages: tuple[NewMessage, ...]
    active_leaf: int | None = None  # an index into messages
    tool_calls: Mapping[int, list[StoredToolCall]] = field(default_factory=dict)  # by index


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValidationError("file", f"the key {key[:40]!r} appears twice in one object")
        out[key] = value
    return out


def _no_constants(name: str) -> NoReturn:
    raise ValidationError("file", f"{name} is not valid JSON")


def _load(data: bytes | str) -> object:
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    if not isinstance(raw, bytes | bytearray):
        raise ValidationError("file", "the upload must be bytes or text")
    if len(raw) > MAX_IMPORT_BYTES:
        raise LimitError("file", f"the file is over {MAX_IMPORT_BYTES // (1024 * 1024)} MB")
    try:
        text = raw.decode("utf-8-sig")  # strict: no lone surrogates, no invalid bytes
    except UnicodeDecodeError as exc:
        raise ValidationError("file", "the file is not UTF-8 text") from exc
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constants)
    except RecursionError as exc:
        raise ValidationError("file", "the JSON is nested too deeply") from exc
    except json.JSONDecodeError as exc:
        raise ValidationError(
            "file", f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from exc
    except ValueError as exc:  # e.g. an integer over Python's digit limit
        raise ValidationError("file", "not valid JSON: a number is too long") from exc


def _object(value: object, field_name: str, allowed: frozenset[str]) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise ValidationError(field_name, f"{field_name} must be an object")
    unknown = sorted(set(value) - allowed)
    if unknown:
        where = "the file" if field_name == "file" else field_name
        raise ValidationError(
            field_name, f"{where} has a field {unknown[0][:40]!r} that chat exports never have"
        )
    return value


def _message(item: object, i: int, version: int) -> NewMessage:
    name = f"messages[{i}]"
    obj = _object(item, name, _MESSAGE_KEYS if version > 1 else _MESSAGE_KEYS - {"id", "parent"})
    for key in ("role", "content"):
        if key not in obj:
            raise ValidationError(f"{name}.{key}", f"{name}.{key} is missing")
    role = check_role(obj["role"], f"{name}.role")
    params = check_flat_object(obj.get("params"), f"{name}.params")
    metrics = check_flat_object(obj.get("metrics"), f"{name}.metrics")
    created = obj.get("created_at")
    return NewMessage(
        role=role,
        content=check_text(obj["content"], f"{name}.content"),  # limits are checked on insert
        status=check_status(obj.get("status", "complete"), f"{name}.status", FINAL_STATUSES),
        model=check_model(obj.get("model"), f"{name}.model"),
        params=params,
        metrics=metrics,
        feedback=check_feedback(obj.get("feedback", 0), f"{name}.feedback"),
        created_at=None if created is None else check_time(created, f"{name}.created_at"),
        reasoning=check_text(obj.get("reasoning", ""), f"{name}.reasoning"),
        attachments=()
        if obj.get("attachments") is None
        else files_from_json(obj["attachments"], f"{name}.attachments"),
    )


def parse_export(data: bytes | str) -> ConversationImport:
    """Validate a JSON export without writing anything."""
    loaded = _load(data)
    if not isinstance(loaded, dict):
        raise ValidationError("file", NOT_AN_EXPORT)
    if loaded.get("format") != EXPORT_FORMAT:  # before its keys: say what the file is not
        raise ValidationError("file" if "format" not in loaded else "format", NOT_AN_EXPORT)
    top = _object(loaded, "file", _TOP_KEYS)
    version = top.get("version")
    if isinstance(version, bool) or version not in READ_VERSIONS:
        shown = repr(version)[:20]
        raise ValidationError(
            "version", f"version {shown} is not supported (this app reads versions 1 and 2)"
        )
    messages = top.get("messages")
    if not isinstance(messages, list):
        raise ValidationError("messages", "messages must be a list")
    parents, active = file_tree(messages, top.get("active_leaf")) if version > 1 else ([], None)
    if len(messages) > MAX_IMPORT_MESSAGES:
        raise LimitError("messages", f"more than {MAX_IMPORT_MESSAGES} messages")
    parsed = [_message(item, i, version) for i, item in enumerate(messages)]
    calls = {i: _calls(item, i) for i, item in enumerate(messages) if "tool_calls" in item}
    if version > 1:
        parsed = [replace(m, parent=parent) for m, parent in zip(parsed, parents, strict=True)]
    title = top.get("title")
    times = {key: top.get(key) for key in ("created_at", "updated_at")}
    return ConversationImport(
        title=None if title is None else check_title(title),
        created_at=None
        if times["created_at"] is None
        else check_time(times["created_at"], "created_at"),
        updated_at=None
        if times["updated_at"] is None
        else check_time(times["updated_at"], "updated_at"),
        messages=tuple(parsed),
        active_leaf=active,
        tool_calls=calls,
    )


def _calls(item: Mapping[str, Any], i: int) -> list[StoredToolCall]:
    """A message's exported calls, checked (the answer's id is filled in on import)."""
    name = f"messages[{i}].tool_calls"
    raw = item["tool_calls"]
    if not isinstance(raw, list) or len(raw) > MAX_STORED_CALLS:
        raise ValidationError(name, f"{name} must be a list of at most {MAX_STORED_CALLS} calls")
    out = []
    for j, call in enumerate(raw):
        obj = _object(call, f"{name}[{j}]", _CALL_KEYS)
        texts = [obj.get(k) for k in ("id", "name", "arguments")]
        result, is_error = obj.get("result"), obj.get("is_error", False)
        if not all(isinstance(t, str) for t in texts) or not isinstance(is_error, bool):
            raise ValidationError(f"{name}[{j}]", f"{name}[{j}] needs id, name and arguments")
        if result is not None and not isinstance(result, str):
            raise ValidationError(f"{name}[{j}].result", "a result must be text or null")
        call_id, tool, arguments = (check_text(t, f"{name}[{j}]") for t in texts)
        out.append(StoredToolCall(0, j, ToolCall(call_id, tool, arguments), result, is_error))
    return out


def same_chat(store: ChatStore, owner: str, data: bytes | str) -> str | None:
    """The id of the owner's chat this export already is (same title and messages), if any.

    A second import of the same file would add an identically titled twin to the list;
    the page opens the one already there instead and says so.
    """
    parsed = parse_export(data)
    wanted = [(m.role, m.content) for m in parsed.messages]
    for summary in store.list_conversations(owner):
        if summary.message_count != len(wanted):
            continue
        if parsed.title is not None and summary.title != parsed.title:
            continue
        stored = store.get_conversation(owner, summary.id)
        if stored is not None and [(m.role, m.content) for m in stored.messages] == wanted:
            return summary.id
    return None


def import_json(store: ChatStore, owner: str, data: bytes | str) -> ConversationSummary:
    """Import a JSON export as a new conversation of ``owner``, all or nothing (its tool
    calls, checked before anything is written, follow the messages)."""
    parsed = parse_export(data)
    summary = store.import_conversation(
        owner,
        parsed.title,
        parsed.messages,
        created_at=parsed.created_at,
        updated_at=parsed.updated_at,
        active_leaf=parsed.active_leaf,
    )
    if parsed.tool_calls:
        stored = store.get_conversation(owner, summary.id, whole_tree=True)
        ids = [m.id for m in stored.tree] if stored is not None else []
        for i, calls in parsed.tool_calls.items():
            if i < len(ids):
                store.restore_tool_calls(owner, ids[i], calls)
    return summary
