"""How an answer's status looks: one table of colours, icons and words for every page.

Keys are answer statuses, plus the finish reasons that end a ``complete`` answer
in a way the user should see (cut at the token limit, filtered, a tool call).
"""

from __future__ import annotations

# status -> (badge colour, Material icon, the word the chat page shows)
STATUS_STYLES: dict[str, tuple[str, str, str]] = {
    "streaming": ("blue", "progress_activity", "streaming"),
    "complete": ("green", "check_circle", "complete"),
    "stopped": ("orange", "stop_circle", "stopped"),
    "interrupted": ("orange", "link_off", "interrupted"),
    "error": ("red", "error", "failed"),
    "refused": ("violet", "block", "refused"),
    "length": ("orange", "content_cut", "cut short"),
    "content_filter": ("red", "shield", "filtered"),
    "tool_calls": ("blue", "build", "tool call"),
}


def status_badge(status: str, *, word: str | None = None, detail: str = "") -> str:
    """A Streamlit markdown badge for ``status``; ``word`` replaces its usual word."""
    color, icon, usual = STATUS_STYLES.get(status, STATUS_STYLES["error"])
    suffix = f" · {detail}" if detail else ""
    return f":{color}-badge[:material/{icon}: {word or usual}{suffix}]"


def answer_badge(status: str, finish_reason: str | None = None) -> str:
    """The badge beside a chat answer: none for one that simply finished."""
    if status == "complete" and finish_reason in STATUS_STYLES:
        return status_badge(finish_reason)
    return "" if status == "complete" else status_badge(status)
