"""What the chat page says around the answers: where a setting came from, dates, captions.

Pure functions, so the page stays a script of what the user sees and each rule
has a unit test: an error names the sidebar field the user typed into (not an
environment variable they never set), a chat title carries a relative date, the
model caption names only what is known.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from chat_core.backends.endpoints import host_name

# setting name -> the sidebar field that sets it for this session
SIDEBAR_FIELDS: dict[str, str] = {
    "CHAT_BACKEND": "Back end",
    "OPENAI_API_KEY": "OpenAI API key",
    "OPENAI_BASE_URL": "Base URL",
    "CHAT_REMOTE_URL": "Remote SSE URL",
    "CHAT_MODEL": "Model",
}
SEARCH_FROM = 6  # chats in the list before a search box is worth its space


def name_the_source(message: str, from_sidebar: Iterable[str]) -> str:
    """``message`` with each setting the user typed into the sidebar named by its field."""
    typed = set(from_sidebar)

    def field_of(match: re.Match[str]) -> str:
        name = match.group(0)
        label = SIDEBAR_FIELDS.get(name)
        if label is None:
            return name
        if name in typed:
            return f"the sidebar's “{label}” field"
        return f"{name} (or the sidebar's “{label}” field)"

    pattern = "|".join(re.escape(n) for n in sorted(SIDEBAR_FIELDS, key=len, reverse=True))
    return re.sub(rf"\b(?:{pattern})\b", field_of, message)


def relative_age(stamp: str | datetime, now: datetime | None = None) -> str:
    """How long ago, as a chat list shows it: 'just now', '5 min ago', '2 h ago', '3 d ago'."""
    when = datetime.fromisoformat(stamp) if isinstance(stamp, str) else stamp
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    now = now or datetime.now(UTC)
    seconds = max(0.0, (now - when).total_seconds())
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 86_400:
        return f"{int(seconds // 3600)} h ago"
    if seconds < 30 * 86_400:
        return f"{int(seconds // 86_400)} d ago"
    return when.strftime("%d %b %Y")


def matching_titles(titles: Sequence[str], query: str) -> list[int]:
    """Indexes of the titles that contain every word of ``query`` (any case)."""
    words = query.lower().split()
    return [i for i, title in enumerate(titles) if all(w in title.lower() for w in words)]


def model_caption(backend: str, model: str | None, via: str | None = None) -> str:
    """The caption naming what answers: the model only when this side chooses it."""
    if backend == "remote":
        where = f" at {via}" if via else ""
        return f"Back end **remote**{where} · the server chooses the model"
    return f"Back end **{backend}** · model `{model}`"


def serving_host(backend: object) -> str | None:
    """The host a back end asks (None for the offline model), through wrappers like budgets."""
    inner = getattr(backend, "inner", backend)
    name = getattr(inner, "name", None)
    label = getattr(inner, "label", None)
    if isinstance(label, str) and label:  # a deployed app's own server: not its address
        return label
    if name == "openai":
        return host_name(getattr(inner, "base_url", None))
    if name == "remote":
        return host_name(getattr(inner, "url", None))
    return None


def waiting_line(seconds: float | None, backend: object) -> str | None:
    """What the status line says while no text comes: the host and any retry, or None.

    'No response from 127.0.0.1 yet (12 s) · retrying, 2 of 3'. None when the page's
    own words apply (an answer flowing, or the offline model, which has no host).
    """
    host = serving_host(backend)
    if seconds is None or host is None:
        return None
    line = f"No response from {host} yet ({int(seconds)} s)"
    retrying = getattr(getattr(backend, "inner", backend), "retrying", None)
    if isinstance(retrying, tuple) and len(retrying) == 2:
        line += f" · retrying, {retrying[0]} of {retrying[1]}"
    return line
