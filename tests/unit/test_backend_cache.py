"""The page's back-end cache: one back end per settings, one model-list call per settings."""

from __future__ import annotations

import pytest

from chat_core.backends.offline import OfflineBackend
from chat_core.chat.backend_cache import BackendCache
from chat_core.errors import ConfigError
from chat_core.settings import Settings


class CountingOffline(OfflineBackend):
    calls = 0

    def list_models(self) -> list[str]:
        CountingOffline.calls += 1
        return ["offline-scripted"]


def test_same_settings_same_backend_new_settings_new_backend() -> None:
    cache = BackendCache()
    slow, fast = Settings(backend="offline", offline_tps=10), Settings(backend="offline")
    first = cache.backend(slow)
    assert cache.backend(Settings(backend="offline", offline_tps=10)) is first
    second = cache.backend(fast)
    assert second is not first and isinstance(second, OfflineBackend)


def test_model_list_is_asked_once_per_settings() -> None:
    built: list[Settings] = []

    def factory(settings: Settings) -> CountingOffline:
        built.append(settings)
        return CountingOffline()

    cache = BackendCache(factory)
    settings = Settings(backend="offline")
    CountingOffline.calls = 0
    assert cache.models(settings) == ["offline-scripted"]
    assert cache.models(settings) == ["offline-scripted"]
    assert CountingOffline.calls == 1 and built == [settings]
    cache.models(Settings(backend="offline", offline_tps=5))
    assert CountingOffline.calls == 2 and len(built) == 2


def test_settings_that_cannot_work_raise_config_error() -> None:
    with pytest.raises(ConfigError):
        BackendCache().backend(Settings(backend="remote"))
