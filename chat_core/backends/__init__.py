"""Back ends: one module each, one ``Backend`` protocol, one factory."""

from __future__ import annotations

from chat_core.backends.base import Backend
from chat_core.backends.offline import OfflineBackend
from chat_core.settings import Settings


def make_backend(settings: Settings) -> Backend:
    """The back end the settings ask for (``auto`` resolved)."""
    name = settings.resolved_backend
    if name == "offline":
        return OfflineBackend(tokens_per_second=settings.offline_tps)
    if name == "openai":
        from chat_core.backends.openai import OpenAIBackend

        return OpenAIBackend(
            api_key=settings.openai_api_key,
            base_url=settings.openai_base_url,
            model=settings.resolved_model,
        )
    from chat_core.backends.remote import RemoteBackend

    return RemoteBackend.from_settings(settings)


__all__ = ["Backend", "OfflineBackend", "make_backend"]
