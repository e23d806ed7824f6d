"""The one interface every back end implements."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Protocol, runtime_checkable

from chat_core.events import StreamEvent
from chat_core.messages import Conversation, GenerationParams


@runtime_checkable
class Backend(Protocol):
    """Streams typed events for a conversation.

    Each stream ends with exactly one ``Done``; failures are ``StreamError``
    events, never exceptions. Closing the iterator early (``close()`` /
    ``aclose()``, or cancelling the task) closes the upstream connection.
    """

    name: str

    def stream(self, conversation: Conversation, params: GenerationParams) -> Iterator[StreamEvent]:
        """Stream the answer, blocking."""
        ...

    def astream(
        self, conversation: Conversation, params: GenerationParams
    ) -> AsyncIterator[StreamEvent]:
        """Stream the answer, async."""
        ...

    def list_models(self) -> list[str]:
        """The models this back end offers; empty when it cannot tell."""
        ...

    async def aclose(self) -> None:
        """Close the connections the back end keeps between streams (call on its loop)."""
        ...


@runtime_checkable
class Resuming(Protocol):
    """A stream that may resume across connections (the remote back end's ``RemoteStream``)."""

    @property
    def reconnects(self) -> int:
        """How many times the stream was resumed so far."""
        ...
