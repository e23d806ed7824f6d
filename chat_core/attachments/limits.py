"""How much a person may attach: per file, per message, per conversation, and how many files.

The defaults fit Streamlit Community Cloud's smallest box (690 MB shared by every visitor):
a message's files are held in memory while they are cleaned, stored and sent, and a
conversation's images are sent again on later turns (``docs/architecture.md``).
``CHAT_ATTACHMENTS`` overrides any of them: ``file=5MB; message=10MB; chat=25MB; files=10;
tokens=8000``. Pure: no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from chat_core.errors import ConfigError

MB = 1_000_000
# Pillow's own guard is a warning at 89 M pixels and an error at twice that; a photo from a
# phone is 12-50 M. Past this the decoded image alone would be over 100 MB of RGBA.
MAX_IMAGE_PIXELS = 25_000_000
MAX_IMAGE_SIDE_PX = 2048  # OpenAI scales larger images down to fit 2048 x 2048 anyway
CHARS_PER_TOKEN = 4  # the usual estimate for English text (the app's token estimate too)


@dataclass(frozen=True, slots=True)
class AttachmentLimits:
    """Caps on attachments; bytes are what the person uploaded, before cleaning."""

    file_bytes: int = 5 * MB
    message_bytes: int = 10 * MB
    chat_bytes: int = 25 * MB
    files: int = 10
    file_tokens: int = 8_000  # a document's text past this is cut, with a note

    @property
    def file_chars(self) -> int:
        """The per-file text budget in characters."""
        return self.file_tokens * CHARS_PER_TOKEN


DEFAULT_LIMITS = AttachmentLimits()

_KEYS = {
    "file": "file_bytes",
    "message": "message_bytes",
    "chat": "chat_bytes",
    "files": "files",
    "tokens": "file_tokens",
}
_ENTRY = re.compile(r"(\w+)\s*=\s*(\d{1,9}(?:\.\d+)?)\s*(kb|mb)?", re.IGNORECASE)


def parse_limits(raw: str | None) -> AttachmentLimits:
    """``CHAT_ATTACHMENTS``: ``key=value`` pairs separated by ``;``; unnamed keys keep defaults."""
    limits = DEFAULT_LIMITS
    for entry in (raw or "").replace(",", ";").split(";"):
        if not entry.strip():
            continue
        match = _ENTRY.fullmatch(entry.strip())
        if match is None or match[1].lower() not in _KEYS:
            raise ConfigError(
                f"CHAT_ATTACHMENTS: {entry.strip()!r} is not one of "
                "file=MB, message=MB, chat=MB, files=N, tokens=N"
            )
        name = _KEYS[match[1].lower()]
        unit = (match[3] or "").lower()
        scale = 1000 if unit == "kb" else MB if unit == "mb" or name.endswith("bytes") else 1
        value = int(float(match[2]) * scale)
        if value < 1:
            raise ConfigError(f"CHAT_ATTACHMENTS: {match[1]} must be more than 0")
        limits = replace(limits, **{name: value})
    return limits


def size_text(size: int) -> str:
    """A byte count for people: ``812 B``, ``14.2 kB``, ``5 MB``."""
    if size < 1000:
        return f"{size} B"
    if size < MB:
        return f"{size / 1000:.1f} kB"
    return f"{size / MB:.1f} MB".replace(".0 MB", " MB")
