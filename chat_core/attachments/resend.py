"""Resend without images: a back end seen through a conversation whose images are notes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from chat_core.attachments.parts import without_images
from chat_core.events import StreamEvent
from chat_core.messages import Conversation, GenerationParams


class WithoutImages:
    """Wraps a back end (``Backend`` protocol): every image becomes a line naming it."""

    def __init__(self, backend: Any) -> None:
        self.inner = backend
        self.name: str = backend.name

    def __getattr__(self, name: str) -> Any:  # the waiting line reads the back end's state
        return getattr(self.inner, name)

    def stream(self, conversation: Conversation, params: GenerationParams) -> Iterator[StreamEvent]:
        """The inner back end's stream, without images."""
        stream: Iterator[StreamEvent] = self.inner.stream(without_images(conversation), params)
        return stream

    def astream(
        self, conversation: Conversation, params: GenerationParams
    ) -> AsyncIterator[StreamEvent]:
        """The inner back end's async stream, without images."""
        stream: AsyncIterator[StreamEvent] = self.inner.astream(
            without_images(conversation), params
        )
        return stream

    def list_models(self) -> list[str]:
        """The inner back end's models."""
        models: list[str] = self.inner.list_models()
        return models

    async def aclose(self) -> None:
        """Nothing of its own: the inner back end is the cache's to close."""
