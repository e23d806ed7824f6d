"""A scripted back end: each prompt names the events to stream (a fake, not a patch).

Every shape a real provider's answer can end in, as typed events: what the OpenAI
back end makes of each provider's stream, and what the gateway and the remote
back end must carry unchanged.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

from chat_core.events import Done, ReasoningDelta, StreamEvent, TextDelta, Usage
from chat_core.messages import Conversation, GenerationParams

SHAPES: dict[str, list[StreamEvent]] = {
    "reasoning": [
        ReasoningDelta("The user asks for 2 + 2."),
        ReasoningDelta("\n\nThat is **4**."),
        TextDelta("2 + 2 = "),
        TextDelta("4."),
        Usage(12, 30, 24),
        Done("stop"),
    ],
    "refusal": [TextDelta("I can't help with that."), Usage(9, 6), Done("stop", refused=True)],
    "tool_call": [Usage(20, 11), Done("tool_calls", tool_names=("get_weather",))],
    "content_filter": [TextDelta("Once upon a"), Done("content_filter")],
    "length": [TextDelta("The first part"), TextDelta(" of a long answer"), Done("length")],
    "empty_with_reasoning": [
        ReasoningDelta("Let me think about every case"),
        ReasoningDelta(" one by one..."),
        Usage(10, 64, 64),
        Done("length"),
    ],
}


class Boom(RuntimeError):
    """What the raising scripts raise: an exception no back end should let out."""


class ScriptedBackend:
    """Streams the script its prompt names (``SHAPES``, or one added with ``script``).

    Prompts ``raise`` and ``raise_at_start`` raise mid-stream and before the first
    event; ``mistral`` yields a list as text (a provider's typed parts left unmapped).
    """

    name = "scripted"

    def __init__(self, delay_s: float = 0.0) -> None:
        self.scripts: dict[str, list[StreamEvent]] = {k: list(v) for k, v in SHAPES.items()}
        self.delay_s = delay_s
        self.prompts: list[str] = []
        self.histories: list[list[dict[str, str]]] = []

    def script(self, prompt: str, events: list[StreamEvent]) -> None:
        self.scripts[prompt] = events

    def _events(self, conversation: Conversation) -> Iterator[StreamEvent]:
        prompt = conversation.prompt
        self.prompts.append(prompt)
        self.histories.append([m.to_dict() for m in conversation.messages])
        if prompt == "raise":
            yield ReasoningDelta("thinking")
            yield TextDelta("partial")
            raise Boom("mid-stream")
        if prompt == "mistral":
            yield TextDelta("ok ")
            bad: Any = [{"type": "thinking", "thinking": "hm"}]
            yield TextDelta(bad)
            yield Done()
            return
        yield from self.scripts.get(prompt, [TextDelta(f"echo: {prompt}"), Done()])

    def stream(self, conversation: Conversation, params: GenerationParams) -> Iterator[StreamEvent]:
        return self._events(conversation)

    def astream(
        self, conversation: Conversation, params: GenerationParams
    ) -> AsyncIterator[StreamEvent]:
        if conversation.prompt == "raise_at_start":  # raises at the call, before any iterator
            raise Boom("astream itself failed")
        return self._aevents(conversation)

    async def _aevents(self, conversation: Conversation) -> AsyncIterator[StreamEvent]:
        for event in self._events(conversation):
            if self.delay_s:
                await asyncio.sleep(self.delay_s)
            yield event

    def list_models(self) -> list[str]:
        return []
