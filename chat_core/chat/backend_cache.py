"""The back end a page uses: built once per settings, with its model list asked once."""

from __future__ import annotations

from collections.abc import Callable

from chat_core.backends import Backend, make_backend
from chat_core.settings import Settings


class BackendCache:
    """Holds the back end for the latest settings; a change of settings builds a new one."""

    def __init__(self, factory: Callable[[Settings], Backend] = make_backend) -> None:
        self._factory = factory
        self._settings: Settings | None = None
        self._backend: Backend | None = None
        self._models: dict[Settings, list[str]] = {}

    def backend(self, settings: Settings) -> Backend:
        """The back end for ``settings`` (ConfigError when they cannot work)."""
        if self._backend is None or settings != self._settings:
            self._backend = self._factory(settings)
            self._settings = settings
        return self._backend

    def models(self, settings: Settings) -> list[str]:
        """The models the back end offers (asked once per settings); [] for free text."""
        if settings not in self._models:
            self._models[settings] = self.backend(settings).list_models()
        return self._models[settings]
