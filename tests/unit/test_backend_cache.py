"""The page's back ends: one per settings; model lists once per endpoint and process."""

from __future__ import annotations

import threading

import pytest

from chat_core.backends.model_list import ModelList
from chat_core.backends.offline import OfflineBackend
from chat_core.chat.backend_cache import BackendCache, ModelCatalog, endpoint_key
from chat_core.errors import ConfigError
from chat_core.settings import Settings, VisitorInput
from tests.support.polling import wait_for


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


def test_model_list_is_asked_once_per_endpoint_for_the_whole_process() -> None:
    built: list[Settings] = []

    def factory(settings: Settings) -> CountingOffline:
        built.append(settings)
        return CountingOffline()

    catalog = ModelCatalog()
    one, other = BackendCache(factory, catalog), BackendCache(factory, catalog)
    CountingOffline.calls = 0
    assert one.models(Settings(backend="offline")) == ["offline-scripted"]
    assert one.models(Settings(backend="offline")) == ["offline-scripted"]
    # another session, other settings, the same endpoint: the list is not asked again
    assert other.models(Settings(backend="offline", offline_tps=5)) == ["offline-scripted"]
    assert CountingOffline.calls == 1 and len(built) == 2


def test_a_slow_list_is_pending_then_cached_and_a_failure_is_asked_again_later() -> None:
    now = [0.0]
    release = threading.Event()
    calls: list[int] = []

    def slow() -> ModelList:
        calls.append(1)
        release.wait(10)
        return ModelList(("llama3.2",))

    catalog = ModelCatalog(wait_s=0.01, retry_s=30, clock=lambda: now[0])
    assert catalog.get("k", slow).pending  # the page draws without it
    assert catalog.get("k", slow).pending and len(calls) == 1  # one fetch, not one per page
    release.set()
    assert wait_for(lambda: not catalog.get("k", slow).pending)
    assert catalog.get("k", slow).models == ("llama3.2",) and len(calls) == 1

    failed = ModelList(None, "no list")
    catalog.get("down", lambda: failed)
    assert wait_for(lambda: catalog.get("down", lambda: failed).problem == "no list")
    asked: list[int] = []

    def counted() -> ModelList:
        asked.append(1)
        return failed

    catalog.get("down", counted)
    assert asked == []  # a failure is remembered for retry_s...
    now[0] = 31.0
    catalog.get("down", counted)
    assert wait_for(lambda: asked == [1])  # ...then asked again


def test_endpoint_key_tells_endpoints_and_keys_apart_without_holding_the_key() -> None:
    owner = Settings(openai_api_key="sk-owner-secret")
    typed = owner.with_overrides(visitor=VisitorInput(openai_base_url="http://127.0.0.1:9/v1"))
    assert endpoint_key(owner) != endpoint_key(typed)
    assert endpoint_key(owner) != endpoint_key(Settings(openai_api_key="sk-other"))
    assert "sk-owner-secret" not in repr(endpoint_key(owner))
    assert endpoint_key(Settings(backend="offline")) == ("offline",)


def test_settings_that_cannot_work_raise_config_error() -> None:
    with pytest.raises(ConfigError):
        BackendCache().backend(Settings(backend="remote"))


def test_asking_for_the_list_does_not_rebuild_the_back_end_answers_come_from() -> None:
    built: list[Settings] = []

    def factory(settings: Settings) -> OfflineBackend:
        built.append(settings)
        return OfflineBackend()

    cache = BackendCache(factory, ModelCatalog())
    listed, used = Settings(backend="offline"), Settings(backend="offline", model="picked")
    for _ in range(3):  # three reruns of the page: list, then the back end for the pick
        cache.model_list(listed)
        answering = cache.backend(used)
    assert cache.backend(used) is answering and built == [listed, used]
