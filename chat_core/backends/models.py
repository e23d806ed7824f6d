"""The Model select: which model to use, its options, and names a server may not take.

When a server lists its models, the model used is one it serves: the configured
one if listed, else the back end's default if listed, else its first chat model,
said in a note (a server that checks names, as Ollama does, refuses any other).

A provider's model list is everything it serves: OpenAI's has embeddings, Whisper,
TTS, DALL-E and moderation models beside the chat ones, alphabetically, so picking
its first entry sends a new user's prompt to a model that cannot chat. Pure.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

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


MAX_LISTED_MODELS = 200  # a select of 10,000 options helps nobody; the field takes any name
MAX_MODEL_NAME_CHARS = 200


def model_name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a model's name (spaces, length); None when it can."""
    if len(name) > MAX_MODEL_NAME_CHARS:
        return f"A model name has at most {MAX_MODEL_NAME_CHARS} characters."
    if any(c.isspace() or ord(c) < 32 for c in name):
        return "A model name has no spaces: pick one from the list, or type it exactly."
    return None


def listed_chat_models(listed: Iterable[object]) -> list[str]:
    """The usable chat model names of a ``/v1/models`` answer, in its order, at most 200."""
    names: list[str] = []
    for item in dict.fromkeys(m for m in listed if isinstance(m, str)):
        if item and model_name_problem(item) is None and is_chat_model(item):
            names.append(item)
            if len(names) == MAX_LISTED_MODELS:
                break
    return names


@dataclass(frozen=True)
class ModelPick:
    """The model to use and, when the server chose it, a sentence saying so."""

    name: str
    note: str | None = None


def pick_model(
    configured: str | None, served: list[str] | None, *, default: str, where: str
) -> ModelPick:
    """The model to ask for: the configured one if the server has it, else one it serves.

    ``served``: the server's chat models (``listed_chat_models``), or None when it has no
    list. Without a list the configured name (else ``default``) is all there is.
    """
    if not served:
        return ModelPick(configured or default)
    if configured and configured in served:
        return ModelPick(configured)
    if not configured and default in served:  # OpenAI's own list: its default, not 'babbage'
        return ModelPick(default)
    if default in served:
        chosen, which = default, "the default"
    else:
        chosen = served[0]
        which = "its only model" if len(served) == 1 else "the first model it lists"
    if configured:
        note = f"{where} does not serve `{configured}`: using `{chosen}`, {which}."
    else:
        note = f"Using `{chosen}`, {which} of {where}."
    return ModelPick(chosen, note)


__all__ = [
    "MAX_LISTED_MODELS",
    "ModelPick",
    "is_chat_model",
    "listed_chat_models",
    "model_name_problem",
    "model_options",
    "pick_model",
]
