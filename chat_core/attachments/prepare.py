"""A prompt's files checked, cleaned and turned into ``Attachment`` values, or refused whole.

Each refusal is a ``ValidationError`` (``LimitError`` for a cap) whose message names the
file and the limit; one bad file refuses the message, so nothing is half sent or half
stored. Order: count, sizes (cheap, before any decoding), then each file's content.
"""

from __future__ import annotations

from collections.abc import Sequence

from chat_core.attachments.documents import decode_text, pdf_text, truncate
from chat_core.attachments.images import clean_image
from chat_core.attachments.limits import DEFAULT_LIMITS, AttachmentLimits, size_text
from chat_core.attachments.sniff import (
    ACCEPTED_EXTENSIONS,
    PDF,
    TEXT,
    claimed_type,
    looks_executable,
    sniff,
    type_name,
)
from chat_core.errors import LimitError, ValidationError
from chat_core.messages import Attachment

MAX_NAME_CHARS = 200


def check_sizes(
    files: Sequence[tuple[str, bytes]], limits: AttachmentLimits, chat_bytes: int = 0
) -> None:
    """The caps on count and bytes, before any file is opened."""
    if len(files) > limits.files:
        raise LimitError(
            "attachments", f"{len(files)} files is too many: at most {limits.files} a message"
        )
    for name, data in files:
        if len(data) > limits.file_bytes:
            raise LimitError(
                name,
                f"{name} is {size_text(len(data))}: over the "
                f"{size_text(limits.file_bytes)} limit per file",
            )
    total = sum(len(data) for _name, data in files)
    if total > limits.message_bytes:
        raise LimitError(
            "attachments",
            f"These files are {size_text(total)} together: over the "
            f"{size_text(limits.message_bytes)} limit per message",
        )
    if chat_bytes + total > limits.chat_bytes:
        raise LimitError(
            "attachments",
            f"This chat's files would be {size_text(chat_bytes + total)}: over the "
            f"{size_text(limits.chat_bytes)} limit per chat. Start a new chat for more files.",
        )


def prepare_file(name: str, data: bytes, limits: AttachmentLimits = DEFAULT_LIMITS) -> Attachment:
    """One file as a clean Attachment, judged by its content; ValidationError naming it."""
    name = _clean_name(name)
    claimed = claimed_type(name)
    if claimed is None:
        raise ValidationError(
            name, f"{name}: this type of file is not accepted (images, PDF, text files)"
        )
    if not data:
        raise ValidationError(name, f"{name}: the file is empty")
    found = sniff(data)
    if not _matches(claimed, found) or looks_executable(data):
        raise ValidationError(name, f"{name}: its content is not a {type_name(claimed)} file")
    if found is not None and found.startswith("image/"):
        clean, mime, width, height = clean_image(name, data)
        return Attachment(name, mime, clean, None, width, height)
    if found == PDF:
        text = truncate(name, pdf_text(name, data), limits.file_chars, limits.file_tokens)
        return Attachment(name, PDF, data, text)
    text = truncate(name, decode_text(name, data), limits.file_chars, limits.file_tokens)
    return Attachment(name, TEXT, data, text)


def prepare_files(
    files: Sequence[tuple[str, bytes]],
    limits: AttachmentLimits = DEFAULT_LIMITS,
    *,
    chat_bytes: int = 0,
) -> tuple[Attachment, ...]:
    """Every file of a message, or a ValidationError for the first bad one (nothing kept).

    ``chat_bytes``: what the conversation already holds, for the per-chat cap.
    """
    check_sizes(files, limits, chat_bytes)
    return tuple(prepare_file(name, data, limits) for name, data in files)


def _matches(claimed: str, found: str | None) -> bool:
    """Content fits the name: any image under an image name (a JPEG saved as .png is
    common), a PDF as .pdf, and text (no known signature) under a text name."""
    if claimed.startswith("image/"):
        return found is not None and found.startswith("image/")
    return found == claimed if claimed == PDF else found is None


def _clean_name(name: str) -> str:
    """The last path segment, without control characters, at most MAX_NAME_CHARS."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if ch.isprintable()).strip()
    return (base or "file")[-MAX_NAME_CHARS:]


__all__ = ["ACCEPTED_EXTENSIONS", "check_sizes", "check_stored", "prepare_file", "prepare_files"]


def check_stored(
    name: str, mime: str, data: bytes, limits: AttachmentLimits = DEFAULT_LIMITS
) -> None:
    """An already-clean file (from an import) still is what it says: its bytes kept as they are,
    so export -> import is byte-identical; ValidationError naming it otherwise."""
    if len(data) > limits.file_bytes:
        raise LimitError(name, f"{name} is over the {size_text(limits.file_bytes)} limit per file")
    found = sniff(data)
    if mime == TEXT:
        decode_text(name, data)
        if found is None and not looks_executable(data):
            return
    elif found == mime == PDF:
        return
    elif found == mime and mime.startswith("image/"):
        clean_image(name, data)  # decodes: a bomb or a broken image is refused here too
        return
    raise ValidationError(name, f"{name}: its content is not {mime}")
