"""A back end's model list, asked once: the chat models, or why there is none.

``GET /v1/models`` is optional for OpenAI-compatible servers (some answer 404),
may answer something that is not its JSON, or list thousands of models. Each
case ends here as a ``ModelList`` the page can show: the chat models (at most
``MAX_LISTED_MODELS``), or None with a sentence naming the server.
"""

from __future__ import annotations

from dataclasses import dataclass

import openai

from chat_core.backends.base import Backend
from chat_core.backends.endpoints import where
from chat_core.backends.models import listed_chat_models
from chat_core.backends.openai_errors import error_event


@dataclass(frozen=True)
class ModelList:
    """The chat models a back end serves; ``models`` None when it has no usable list."""

    models: tuple[str, ...] | None
    problem: str | None = None  # why there is no list, for the page to say
    pending: bool = False  # still being asked for (the page draws without it)


def fetch_model_list(backend: Backend) -> ModelList:
    """Ask ``backend`` for its models (blocking, short timeout): a ``ModelList``, never raises."""
    from chat_core.backends.openai import OpenAIBackend

    if not isinstance(backend, OpenAIBackend):
        listed = backend.list_models()
        return ModelList(tuple(listed_chat_models(listed)) if listed else None)
    at = backend.label or where(backend.base_url)
    try:
        listed = backend.fetch_models()
    except openai.NotFoundError:
        return ModelList(None, f"{at} has no model list (404): type the model's name.")
    except (openai.APIStatusError, openai.APIConnectionError) as exc:
        return ModelList(
            None,
            error_event(
                exc, show_body=False, base_url=backend.base_url, label=backend.label
            ).message,
        )
    except Exception:  # a body that is not the list's JSON, in any of its ways
        return ModelList(None, f"{at}'s model list could not be read: type the model's name.")
    models = listed_chat_models(listed)
    if not models:
        return ModelList(None, f"{at} lists no chat model: type the model's name.")
    return ModelList(tuple(models))


__all__ = ["ModelList", "fetch_model_list"]
