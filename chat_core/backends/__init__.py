"""Back ends: one module each, one ``Backend`` protocol, one factory.

base             the ``Backend`` protocol every back end implements
directives       the offline model's instruments (``/lorem``, ``/error``, ``/think``, ...)
offline          a scripted, deterministic model: no key, no network
openai           the official SDK against OpenAI or any OpenAI-compatible server, over
  openai_chat      Chat Completions chunks -> events, for every provider's shape of them
  openai_responses Responses API events -> events
  openai_params    request parameters, adapted to what each (endpoint, model) accepts
  openai_errors    SDK exceptions -> StreamError, messages cut at a word boundary
  think_tags       ``<think>...</think>`` at the start of content -> reasoning
models           the Model select's options (configured model first, non-chat ones hidden)
remote           any server speaking wire protocol v1 (or a seed-style one), with resume
remote_session   the remote back end's decisions, without I/O
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from chat_core.backends.base import Backend
from chat_core.backends.offline import OfflineBackend
from chat_core.settings import Settings

if TYPE_CHECKING:
    from chat_core.backends.remote import WireRecord


def make_backend(
    settings: Settings,
    *,
    max_retries: int | None = None,
    on_wire: Callable[[WireRecord], None] | None = None,
) -> Backend:
    """The back end the settings ask for (``auto`` resolved).

    Args:
        settings: what to build.
        max_retries: the OpenAI SDK's retries (its default when None; 0 for a probe).
        on_wire: the remote back end's wire records, for diagnostics.
    """
    name = settings.resolved_backend
    if name == "offline":
        return OfflineBackend(tokens_per_second=settings.offline_tps)
    if name == "openai":
        import openai

        from chat_core.backends.openai import OpenAIBackend

        return OpenAIBackend(
            api_key=settings.openai_api_key,
            base_url=settings.openai_base_url,
            model=settings.resolved_model,
            api=settings.openai_api,
            max_retries=openai.DEFAULT_MAX_RETRIES if max_retries is None else max_retries,
        )
    from chat_core.backends.remote import RemoteBackend

    return RemoteBackend.from_settings(settings, on_wire=on_wire)


__all__ = ["Backend", "OfflineBackend", "make_backend"]
