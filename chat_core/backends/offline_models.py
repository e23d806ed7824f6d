"""The offline model's named characters: a fast one, a slow one, one that thinks, one that stalls.

Compare needs models that differ, with no key and no network, and tests need them
deterministic. A character re-times the offline model's plan (pure: a plan in, a plan
out); its speed is a multiple of the back end's rate (``CHAT_OFFLINE_TPS``), so a test
or a benchmark that sets the rate moves every character with it.

    offline-scripted  the back end's rate, as before
    offline-fast      4x the rate
    offline-slow      0.4x the rate
    offline-thinker   reasons for 2 s before it answers
    offline-stutter   the rate, with a 1.5 s pause after every 40 answer tokens (a stall)

The offline model also obeys directives written at the start of the system prompt
(``with_system_directives``), so one Compare lane can fail or stall while the others,
sent the same prompt, answer.
"""

from __future__ import annotations

from dataclasses import dataclass

from chat_core.events import StreamEvent, TextDelta
from chat_core.messages import ChatMessage, Conversation, GenerationParams
from chat_core.settings import DEFAULT_OFFLINE_MODEL


@dataclass(frozen=True, slots=True)
class OfflineCharacter:
    """How a named offline model differs from the scripted one."""

    name: str
    description: str
    speed: float = 1.0  # a multiple of the back end's tokens per second
    think_s: float = 0.0  # reasoning before the answer (a prompt's /think overrides it)
    stall_every: int = 0  # a pause after every N answer tokens (0: never)
    stall_s: float = 0.0


OFFLINE_CHARACTERS: tuple[OfflineCharacter, ...] = (
    OfflineCharacter(DEFAULT_OFFLINE_MODEL, "scripted, at the configured rate"),
    OfflineCharacter("offline-fast", "four times the configured rate", speed=4.0),
    OfflineCharacter("offline-slow", "0.4 times the configured rate", speed=0.4),
    OfflineCharacter("offline-thinker", "reasons for 2 s before answering", think_s=2.0),
    OfflineCharacter(
        "offline-stutter", "pauses 1.5 s after every 40 tokens", stall_every=40, stall_s=1.5
    ),
)
OFFLINE_MODEL_NAMES: tuple[str, ...] = tuple(c.name for c in OFFLINE_CHARACTERS)
_BY_NAME = {c.name: c for c in OFFLINE_CHARACTERS}

Plan = list[tuple[float, StreamEvent]]


def offline_character(model: str | None) -> OfflineCharacter | None:
    """The character named ``model``; None for the default and for any other name."""
    found = _BY_NAME.get(model or "")
    return None if found is None or found.name == DEFAULT_OFFLINE_MODEL else found


def retimed(plan: Plan, character: OfflineCharacter) -> Plan:
    """``plan`` at the character's speed, with its pauses (reasoning keeps its own pace)."""
    out: Plan = []
    shift, text_tokens, thought_until = 0.0, 0, 0.0
    for offset, event in plan:
        if isinstance(event, TextDelta):
            if text_tokens == 0:
                thought_until = offset  # the answer starts here: reasoning time stays as is
            if character.stall_every and text_tokens and text_tokens % character.stall_every == 0:
                shift += character.stall_s
            text_tokens += 1
        scaled = offset if text_tokens == 0 else _scaled(offset, thought_until, character.speed)
        out.append((scaled + shift, event))
    return out


def _scaled(offset: float, start: float, speed: float) -> float:
    return start + (offset - start) / speed


def with_system_directives(conversation: Conversation, params: GenerationParams) -> Conversation:
    """The conversation with the system prompt's leading directive lines put before the prompt."""
    lines = []
    for line in (params.system or "").strip().splitlines():
        if not line.strip().startswith("/") or line.strip().startswith("/echo"):
            break
        lines.append(line.strip())
    if not lines:
        return conversation
    prompt = "\n".join([*lines, conversation.prompt])
    return Conversation((*conversation.messages[:-1], ChatMessage("user", prompt)))


__all__ = [
    "OFFLINE_CHARACTERS",
    "OFFLINE_MODEL_NAMES",
    "OfflineCharacter",
    "offline_character",
    "retimed",
    "with_system_directives",
]
