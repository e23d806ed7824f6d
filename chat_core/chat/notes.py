"""Why an answer ended, in words for beside it: every finish but a plain stop is explained.

Pure: the page shows the note under the answer; the text sent back to the model
never contains it. Tool names are model output, so they are made inert before
they go into markdown.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

MAX_TOOL_NAME_CHARS = 64
_UNSAFE = re.compile(r"[`\s\\]+")  # a backtick would end the code span; newlines split lines


@dataclass(frozen=True, slots=True)
class FinishNote:
    """One note beside an answer: markdown text and a Material icon for it."""

    message: str
    icon: str


def tool_label(name: str) -> str:
    """A tool name as inert inline code, shortened."""
    clean = _UNSAFE.sub("_", name).strip("_")[:MAX_TOOL_NAME_CHARS] or "a tool"
    return f"`{clean}`"


def _names(tool_names: Sequence[str]) -> str:
    labels = [tool_label(n) for n in dict.fromkeys(tool_names)] or ["a tool"]
    return labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]


def finish_note(
    finish_reason: str | None,
    *,
    text: str,
    reasoning: str = "",
    reasoning_tokens: int | None = None,
    tool_names: Sequence[str] = (),
) -> FinishNote | None:
    """The note for an answer that ended with ``finish_reason``; None when nothing needs saying."""
    thought = bool(reasoning.strip()) or bool(reasoning_tokens)
    if finish_reason == "content_filter":
        if text:
            return FinishNote(
                "The rest was blocked by the provider's content filter.", ":material/shield:"
            )
        return FinishNote("Blocked by the provider's content filter.", ":material/shield:")
    if finish_reason == "tool_calls":
        return FinishNote(
            f"The model asked to call {_names(tool_names)}; this app runs no tools.",
            ":material/build:",
        )
    if finish_reason == "length" and not text.strip() and thought:
        spent = f" ({reasoning_tokens} reasoning tokens)" if reasoning_tokens else ""
        return FinishNote(
            f"No answer: the whole token budget went to reasoning{spent}. "
            "Raise **Max tokens** in the settings and retry.",
            ":material/psychology_alt:",
        )
    if finish_reason == "length":
        return FinishNote(
            "Cut at the token limit. **Continue** asks for the rest; a larger **Max tokens** "
            "gives room next time.",
            ":material/content_cut:",
        )
    if finish_reason == "stop" and not text.strip() and thought:
        return FinishNote(
            "The model reasoned but sent no answer. Retry, or raise **Max tokens**.",
            ":material/psychology_alt:",
        )
    return None
