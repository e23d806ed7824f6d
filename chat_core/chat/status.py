"""How an answer's status looks: one table of colours, icons and words for every page."""

from __future__ import annotations

# status -> (badge colour, Material icon, the word the chat page shows)
STATUS_STYLES: dict[str, tuple[str, str, str]] = {
    "streaming": ("blue", "progress_activity", "streaming"),
    "complete": ("green", "check_circle", "complete"),
    "stopped": ("orange", "stop_circle", "stopped"),
    "interrupted": ("orange", "link_off", "interrupted"),
    "error": ("red", "error", "failed"),
}


def status_badge(status: str, *, word: str | None = None, detail: str = "") -> str:
    """A Streamlit markdown badge for ``status``; ``word`` replaces its usual word."""
    color, icon, usual = STATUS_STYLES.get(status, STATUS_STYLES["error"])
    suffix = f" · {detail}" if detail else ""
    return f":{color}-badge[:material/{icon}: {word or usual}{suffix}]"


def answer_badge(status: str) -> str:
    """The badge beside a chat answer: none for a complete one."""
    return "" if status == "complete" else status_badge(status)
