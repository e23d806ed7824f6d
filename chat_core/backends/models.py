"""The Model select's options: the configured model first, models that cannot chat left out.

A provider's model list is everything it serves: OpenAI's has embeddings, Whisper,
TTS, DALL-E and moderation models beside the chat ones, alphabetically, so picking
its first entry sends a new user's prompt to a model that cannot chat. Pure.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# Names of models that do not answer chat: embeddings, audio in or out, images, moderation.
_NOT_CHAT = re.compile(
    r"embed|whisper|tts|transcribe|audio|realtime|speech|dall-e|image|moderation",
    re.IGNORECASE,
)


def is_chat_model(name: str) -> bool:
    """False for a model whose name says it cannot chat (embedding, audio, image, moderation)."""
    return not _NOT_CHAT.search(name)


def model_options(available: Iterable[str], configured: str | None, default: str) -> list[str]:
    """The select's options: ``configured`` (else ``default``) first, then the chat models."""
    chosen = configured or default
    rest = [m for m in dict.fromkeys(available) if m and m != chosen and is_chat_model(m)]
    return [chosen, *rest]
