"""How a long prompt is shown in the chat: its first lines, the rest behind "Show all".

A pasted 20,000-character prompt was drawn in full, 5,800 px tall, pushing its answer
screens away. Pure, so the cut has a unit test; the page draws the rest in an expander.
"""

from __future__ import annotations

__all__ = ["PREVIEW_CHARS", "PREVIEW_LINES", "prompt_preview"]

PREVIEW_LINES = 12
PREVIEW_CHARS = 1_200


def prompt_preview(
    text: str, max_lines: int = PREVIEW_LINES, max_chars: int = PREVIEW_CHARS
) -> str | None:
    """The first lines of a long prompt, ending in "…"; None when it is short enough to show."""
    lines = text.splitlines()
    if len(lines) <= max_lines and len(text) <= max_chars:
        return None
    head = "\n".join(lines[:max_lines])
    if len(head) > max_chars:
        cut = head[:max_chars]
        head = cut.rsplit(" ", 1)[0] if " " in cut[max_chars // 2 :] else cut
    head = head.rstrip()
    if head.count("```") % 2:  # a code fence cut open would swallow the rest of the page
        head += "\n```"
    return head + "\n\n…"
