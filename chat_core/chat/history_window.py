"""Which messages of a long chat the page draws: the latest ones, and more on request.

A rerun of the chat page draws every message it shows again (Streamlit resends
each element and the browser diffs them), so a 200-turn chat cost about 270 ms
of server CPU on every click, every rerun at an answer's start and end, for
every visitor (docs/benchmarks.md). The page draws the latest
``HISTORY_WINDOW`` messages and offers the earlier ones a window at a time.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["HISTORY_WINDOW", "earlier_label", "history_start"]

HISTORY_WINDOW = 40  # messages: 20 turns, more than a screen or two of a long answer


def history_start(roles: Sequence[str], shown: int = HISTORY_WINDOW) -> int:
    """The first message to draw: of the last ``shown``, never an answer without its prompt."""
    start = max(0, len(roles) - max(shown, 1))
    while start > 0 and roles[start] != "user":
        start -= 1
    return start


def earlier_label(hidden: int) -> str:
    """The button that draws more of the chat: 'Show 1 earlier message' / '... 38 earlier ...'."""
    return f"Show {hidden} earlier message{'' if hidden == 1 else 's'}"
