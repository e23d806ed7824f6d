"""The prompts an empty chat offers, fitted to the back end that will answer them.

Directives (``/lorem``, ``/stall``...) are instruments of the offline model and of
servers built on it; a real model answers "/lorem 300" with nonsense. So the
offline model gets starters that show their directive on the chip itself (a phone
shows no tooltips), and every other back end gets ordinary prompts. The offline
notice and the Diagnostics caption list the directives from ``DIRECTIVES`` here.
"""

from __future__ import annotations

from dataclasses import dataclass

from chat_core.backends.offline import EXPLAIN_STREAMING_PROMPT

__all__ = [
    "DIRECTIVES",
    "MODEL_STARTERS",
    "OFFLINE_STARTERS",
    "Starter",
    "directive_list",
    "starters_for",
]


@dataclass(frozen=True)
class Starter:
    """A starter prompt offered on an empty chat: what it shows, what it sends."""

    label: str
    prompt: str
    directive: str = ""  # shown on the chip, so it is seen without hovering

    @property
    def chip(self) -> str:
        """The button's text: the label, then the directive in code (markdown)."""
        return f"{self.label} `{self.directive}`" if self.directive else self.label


# The directives' one-line syntax, as the offline notice and Diagnostics list them.
DIRECTIVES: tuple[str, ...] = (
    "/lorem N",
    "/echo TEXT",
    "/stall S [after N]",
    "/error KIND [after N] [times K]",
    "/think S",
    "/drop [after N]",
    "/tool NAME {...}",
)

# Each directive prompt ends with a line of text: that line titles the chat,
# not "/lorem 300" (titles skip directive lines).
OFFLINE_STARTERS: tuple[Starter, ...] = (
    Starter("Explain streaming", EXPLAIN_STREAMING_PROMPT),
    Starter("A long answer", "/lorem 300\nA long answer", "/lorem 300"),
    Starter("A stall mid-answer", "/stall 2 after 50\n/lorem 120\nA stall", "/stall 2"),
    Starter(
        "A rate limit, then retry",
        "/error rate_limit after 20 times 1\n/lorem 80\nA rate limit",
        "/error rate_limit",
    ),
    Starter("Thinking first", "/think 3\nWhy is the sky blue?", "/think 3"),
)

MODEL_STARTERS: tuple[Starter, ...] = (
    Starter("Explain streaming", EXPLAIN_STREAMING_PROMPT),
    Starter("Write a haiku", "Write a haiku about waiting for a slow web page."),
    Starter("Summarise an idea", "Explain server-sent events in three short bullet points."),
    Starter("Python help", "Show a short Python function that reverses the words in a string."),
)


def starters_for(backend: str) -> tuple[Starter, ...]:
    """The offline model's directive starters, or ordinary prompts for any real model."""
    return OFFLINE_STARTERS if backend == "offline" else MODEL_STARTERS


def directive_list(directives: tuple[str, ...] = DIRECTIVES) -> str:
    """The directives as inline code, comma separated (markdown)."""
    return ", ".join(f"`{d}`" for d in directives)
