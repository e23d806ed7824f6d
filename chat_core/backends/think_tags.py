"""Splitting ``<think>...</think>`` at the start of streamed content into reasoning and answer.

Models served without a reasoning parser (DeepSeek R1 and Qwen3 on a plain vLLM,
Ollama or llama.cpp server, Groq's ``reasoning_format=raw``, Mistral's older
Magistral) put their reasoning inside the answer's content, between these tags.
Only a tag at the very start of the content (after whitespace) opens reasoning:
a ``<think>`` later in an answer is the answer's own text. Tags may be split
across chunks at any character, so a possible tag prefix is held back until the
next chunk decides it. Pure: no I/O, no clock.
"""

from __future__ import annotations

from typing import Literal

OPEN_TAG = "<think>"
CLOSE_TAG = "</think>"

_State = Literal["start", "reasoning", "after", "answer"]


def _partial_suffix(text: str, tag: str) -> int:
    """The length of the longest suffix of ``text`` that is a proper prefix of ``tag``."""
    for size in range(min(len(text), len(tag) - 1), 0, -1):
        if tag.startswith(text[-size:]):
            return size
    return 0


class ThinkTagSplitter:
    """Feed content pieces; get ``(reasoning, answer)`` text back for each one."""

    def __init__(self) -> None:
        self._state: _State = "start"
        self._held = ""

    def feed(self, text: str) -> tuple[str, str]:
        """The reasoning and answer text this piece completes (either may be empty)."""
        if self._state == "answer":
            return "", text
        buffer = self._held + text
        self._held = ""
        reasoning = ""
        if self._state == "start":
            stripped = buffer.lstrip()
            if stripped.startswith(OPEN_TAG):
                self._state = "reasoning"
                buffer = stripped[len(OPEN_TAG) :]
            elif OPEN_TAG.startswith(stripped):  # still undecided ("", "  <th")
                self._held = buffer
                return "", ""
            else:
                self._state = "answer"
                return "", buffer
        if self._state == "reasoning":
            end = buffer.find(CLOSE_TAG)
            if end < 0:
                keep = _partial_suffix(buffer, CLOSE_TAG)
                self._held = buffer[len(buffer) - keep :] if keep else ""
                return buffer[: len(buffer) - keep], ""
            reasoning, buffer = buffer[:end], buffer[end + len(CLOSE_TAG) :]
            self._state = "after"
        # The blank line models put after ``</think>`` is layout, not the answer's start.
        answer = buffer.lstrip()
        if answer:
            self._state = "answer"
        return reasoning, answer

    def flush(self) -> tuple[str, str]:
        """What is still held back at the end of the stream."""
        held, self._held = self._held, ""
        if self._state == "reasoning":
            return held, ""
        return "", held if self._state in ("start", "answer") else ""
