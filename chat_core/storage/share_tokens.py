"""Share-link tokens: random, stored only as a hash, with an expiry.

A token is 32 random bytes (256 bits, well over the 128 asked) in URL-safe
base64. Only its sha256 is stored, so a leaked database names no live link.
The lookup is by hash (an indexed equality, the same cost for any input), and
a malformed token is hashed all the same: a caller cannot tell "malformed"
from "unknown", "revoked" or "expired" by the answer or its timing.
Time is passed in (``now``) so tests move the clock without patching.
Pure: the share table and page (issue 25) build on these rules.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta

__all__ = [
    "EXPIRY_CHOICES",
    "SHARING_MODES",
    "TOKEN_BYTES",
    "expires_at",
    "hash_token",
    "is_live",
    "new_token",
    "sharing_mode",
    "well_formed",
]

TOKEN_BYTES = 32
_TOKEN_CHARS = 43  # len(token_urlsafe(32)): base64 of 32 bytes, no padding
_TOKEN_SHAPE = re.compile(rf"[A-Za-z0-9_-]{{{_TOKEN_CHARS}}}")

# The owner's choice in the Share dialog: label -> lifetime (None: never expires).
EXPIRY_CHOICES: dict[str, timedelta | None] = {
    "7 days": timedelta(days=7),  # the default: first in the list
    "1 day": timedelta(days=1),
    "30 days": timedelta(days=30),
    "Never": None,
}

SHARING_MODES = ("off", "on", "login")  # CHAT_SHARING


def new_token() -> str:
    """A fresh share token for a link; show it once, store ``hash_token`` of it."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def well_formed(token: str) -> bool:
    """True when ``token`` has the shape ``new_token`` makes (not that it exists)."""
    return _TOKEN_SHAPE.fullmatch(token) is not None


def hash_token(token: str) -> str:
    """The stored form: sha256 hex of any input, so bad input costs the same lookup."""
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def expires_at(now: datetime, choice: str) -> datetime | None:
    """When a link made at ``now`` with expiry ``choice`` dies; None for never."""
    if choice not in EXPIRY_CHOICES:
        raise ValueError(f"unknown expiry {choice!r}; choose one of {', '.join(EXPIRY_CHOICES)}")
    life = EXPIRY_CHOICES[choice]
    return None if life is None else now + life


def is_live(now: datetime, expires: datetime | None, revoked: bool) -> bool:
    """Whether a stored link still opens: not revoked and not past its expiry."""
    return not revoked and (expires is None or now < expires)


def sharing_mode(raw: str | None) -> str:
    """``CHAT_SHARING`` read leniently in case only; empty means the default ``on``."""
    value = (raw or "on").strip().lower()
    if value not in SHARING_MODES:
        raise ValueError(f"CHAT_SHARING must be one of {', '.join(SHARING_MODES)}, not {raw!r}")
    return value
