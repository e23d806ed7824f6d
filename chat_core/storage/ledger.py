"""The small tables beside the chats: the visitor budget's usage ledger, and preferences.

``ChatStore`` inherits these methods; they share its database, so usage
survives a restart and every app process on the database sees the same totals.

    store.add_usage("browser:abc", requests=1, tokens=812)
    requests, tokens = store.usage_since("browser:abc", datetime.now(UTC) - timedelta(hours=1))

Times are timezone-aware datetimes (a naive one is refused rather than guessed).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update

from chat_core.errors import LimitError, ValidationError
from chat_core.storage.db import Database
from chat_core.storage.records import check_owner, time_text
from chat_core.storage.schema import prefs, usage

MAX_PREF_CHARS = 100_000
MAX_USAGE_COUNT = 2**31 - 1  # an INTEGER column on both databases


def _count(value: object, field_name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_USAGE_COUNT:
        raise ValidationError(field_name, f"{field_name} must be a whole number from 0")
    return value


class Ledger:
    """Usage and preference methods over ``self.db`` (mixed into ``ChatStore``)."""

    db: Database

    # -- usage ---------------------------------------------------------------------------------
    def add_usage(
        self, identity: str, *, requests: int, tokens: int, at: datetime | None = None
    ) -> None:
        """Record what one identity spent (at ``at``, default now)."""
        row = {
            "identity": check_owner(identity, "identity"),
            "requests": _count(requests, "requests"),
            "tokens": _count(tokens, "tokens"),
            "at": time_text(datetime.now(UTC) if at is None else at),
        }
        with self.db.write() as conn:
            conn.execute(insert(usage).values(**row))

    def usage_since(self, identity: str, since: datetime) -> tuple[int, int]:
        """(requests, tokens) the identity spent from ``since`` on."""
        query = select(
            func.coalesce(func.sum(usage.c.requests), 0), func.coalesce(func.sum(usage.c.tokens), 0)
        ).where(
            usage.c.identity == check_owner(identity, "identity"),
            usage.c.at >= time_text(since, "since"),
        )
        with self.db.read() as conn:
            requests, tokens = conn.execute(query).one()
        return int(requests), int(tokens)

    def prune_usage(self, before: datetime) -> int:
        """Forget usage older than ``before`` (every identity); returns the rows removed."""
        with self.db.write() as conn:
            return conn.execute(
                delete(usage).where(usage.c.at < time_text(before, "before"))
            ).rowcount

    # -- preferences ---------------------------------------------------------------------------
    def get_pref(self, owner: str, key: str, default: Any = None) -> Any:
        """A small JSON value the owner saved with ``set_pref`` (e.g. the last open chat)."""
        query = select(prefs.c.value).where(prefs.c.owner == check_owner(owner), prefs.c.key == key)
        with self.db.read() as conn:
            value = conn.execute(query).scalar()
        return default if value is None else json.loads(value)

    def set_pref(self, owner: str, key: str, value: Any) -> None:
        """Save a small JSON value for the owner under ``key``."""
        owner = check_owner(owner)
        if not isinstance(key, str) or not 0 < len(key) <= 100:
            raise ValidationError("key", "key must be 1 to 100 characters")
        try:
            text = json.dumps(value, ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise ValidationError("value", "value must be plain JSON") from exc
        if len(text) > MAX_PREF_CHARS:
            raise LimitError("value", f"value is over {MAX_PREF_CHARS} characters as JSON")
        mine = (prefs.c.owner == owner) & (prefs.c.key == key)
        with self.db.write() as conn:
            # update-then-insert: portable, and the write lock / primary key keep it single
            if conn.execute(update(prefs).where(mine).values(value=text)).rowcount == 0:
                conn.execute(insert(prefs).values(owner=owner, key=key, value=text))
