"""A prompt's attachments, stored beside it: written in the prompt's own transaction, read
per message, counted per conversation (the per-chat cap), deleted with the message (the
table's cascade). Every read is scoped to the owner.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Sequence

from sqlalchemy import Connection, func, insert, select

from chat_core.attachments.limits import DEFAULT_LIMITS
from chat_core.attachments.prepare import check_stored
from chat_core.errors import LimitError, ValidationError
from chat_core.messages import Attachment
from chat_core.storage.db import Database
from chat_core.storage.records import check_owner
from chat_core.storage.schema import attachments, conversations

__all__ = ["AttachmentRows", "files_from_json", "files_to_json", "insert_attachments"]
_FILE_KEYS = frozenset({"name", "mime", "data", "width", "height", "text"})


def insert_attachments(
    conn: Connection, conversation_id: str, message_id: int, files: Sequence[Attachment]
) -> None:
    """Write a message's files (in the caller's transaction: all of them or none)."""
    if not files:
        return
    owner = conn.execute(
        select(conversations.c.owner).where(conversations.c.id == conversation_id)
    ).scalar_one()
    conn.execute(
        insert(attachments),
        [
            {
                "message_id": message_id,
                "conversation_id": conversation_id,
                "owner": owner,
                "position": i,
                "name": a.name,
                "mime": a.mime,
                "size": len(a.data),
                "data": a.data,
                "width": a.width,
                "height": a.height,
                "text": a.text,
                "extracted_chars": len(a.text or ""),
            }
            for i, a in enumerate(files)
        ],
    )


class AttachmentRows:
    """ChatStore's attachment reads (mixed in; ``self.db`` is the store's database)."""

    db: Database

    def attachments_of(self, owner: str, message_ids: Iterable[int]) -> dict[int, list[Attachment]]:
        """The owner's files of these messages, in the order they were attached."""
        wanted = sorted({i for i in message_ids if isinstance(i, int)})
        found: dict[int, list[Attachment]] = {}
        if not wanted:
            return found
        query = (
            select(attachments)
            .where(attachments.c.owner == check_owner(owner), attachments.c.message_id.in_(wanted))
            .order_by(attachments.c.message_id, attachments.c.position)
        )
        with self.db.read() as conn:
            for row in conn.execute(query).mappings():
                found.setdefault(row["message_id"], []).append(
                    Attachment(
                        row["name"],
                        row["mime"],
                        bytes(row["data"]),
                        row["text"],
                        row["width"],
                        row["height"],
                    )
                )
        return found

    def attachment_bytes(self, owner: str, conversation_id: str) -> int:
        """How many bytes of files the owner's conversation holds (for the per-chat cap)."""
        query = select(func.coalesce(func.sum(attachments.c.size), 0)).where(
            attachments.c.owner == check_owner(owner),
            attachments.c.conversation_id == conversation_id,
        )
        with self.db.read() as conn:
            return int(conn.execute(query).scalar_one())


def files_to_json(files: Sequence[Attachment]) -> list[dict[str, object]]:
    """A message's files in a JSON export: the stored bytes in base64, so import is exact."""
    return [
        {
            "name": a.name,
            "mime": a.mime,
            "data": base64.b64encode(a.data).decode("ascii"),
            "width": a.width,
            "height": a.height,
            "text": a.text,
        }
        for a in files
    ]


def files_from_json(value: object, field_name: str) -> tuple[Attachment, ...]:
    """A message's files from a JSON export, each checked to be what it claims."""
    if not isinstance(value, list):
        raise ValidationError(field_name, f"{field_name} must be a list")
    if len(value) > DEFAULT_LIMITS.files:
        raise LimitError(field_name, f"{field_name} has more than {DEFAULT_LIMITS.files} files")
    out = []
    for i, item in enumerate(value):
        where = f"{field_name}[{i}]"
        if not isinstance(item, dict) or set(item) - _FILE_KEYS:
            raise ValidationError(where, f"{where} must be an object of {sorted(_FILE_KEYS)}")
        name, mime, data = item.get("name"), item.get("mime"), item.get("data")
        if not isinstance(name, str) or not isinstance(mime, str) or not isinstance(data, str):
            raise ValidationError(where, f"{where} needs name, mime and data as strings")
        try:
            raw = base64.b64decode(data, validate=True)
        except ValueError as exc:
            raise ValidationError(f"{where}.data", f"{where}.data is not base64") from exc
        try:
            check_stored(name, mime, raw)
        except ValidationError as exc:
            raise type(exc)(f"{where}.data", exc.message) from exc
        text, width, height = item.get("text"), item.get("width"), item.get("height")
        if text is not None and not isinstance(text, str):
            raise ValidationError(f"{where}.text", f"{where}.text must be a string")
        if not all(
            v is None or (isinstance(v, int) and not isinstance(v, bool)) for v in (width, height)
        ):
            raise ValidationError(where, f"{where}: width and height must be integers")
        out.append(Attachment(name, mime, raw, text, width, height))
    return tuple(out)
