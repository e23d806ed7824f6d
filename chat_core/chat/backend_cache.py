"""The back end a page uses, and the model lists of every endpoint, asked once per process.

Each session keeps its own back end (``BackendCache``); the model lists live in one
``ModelCatalog`` for the process, keyed by endpoint (and a hash of the key, since
an account decides what it may use), fetched on a background thread. A page waits
for a list at most ``wait_s`` after the fetch began, so a server that never
answers costs the first page that asks a second or two, once, and every other
page nothing (the page reruns itself when a late list arrives); a failed fetch
is asked again after ``retry_s``.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field

from chat_core.backends import Backend, make_backend
from chat_core.backends.model_list import ModelList, fetch_model_list
from chat_core.settings import Settings

LIST_WAIT_S = 1.5  # the page's longest wait for a list; a later one reruns the page
LIST_TTL_S = 600.0  # a server's list is asked again after this long
LIST_RETRY_S = 30.0  # ... or this long after it could not be had


def endpoint_key(settings: Settings) -> tuple[str, ...]:
    """What decides a back end's model list: its kind, endpoint and (hashed) key."""
    name, visitor = settings.resolved_backend, settings.visitor
    if name == "offline":
        return ("offline",)
    if name == "remote":
        return ("remote", visitor.remote_url or settings.remote_url or "")
    key = visitor.openai_api_key or ("" if visitor.openai_base_url else settings.openai_api_key)
    digest = hashlib.sha256((key or "").encode()).hexdigest()[:16]
    base = visitor.openai_base_url or settings.openai_base_url or ""
    return ("openai", base, digest, "visitor" if visitor.openai_base_url else "owner")


PENDING = ModelList(None, pending=True)


@dataclass
class _Fetch:
    started: float
    done: threading.Event = field(default_factory=threading.Event)
    result: ModelList = PENDING
    finished: float = 0.0


class ModelCatalog:
    """Model lists by endpoint, for the whole process; thread-safe."""

    def __init__(
        self,
        *,
        wait_s: float = LIST_WAIT_S,
        ttl_s: float = LIST_TTL_S,
        retry_s: float = LIST_RETRY_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.wait_s, self.ttl_s, self.retry_s = wait_s, ttl_s, retry_s
        self._clock = clock
        self._lock = threading.Lock()
        self._fetches: dict[Hashable, _Fetch] = {}

    def get(self, key: Hashable, fetch: Callable[[], ModelList]) -> ModelList:
        """The list for ``key``: cached, or fetched (waiting at most ``wait_s``), or pending."""
        now = self._clock()
        with self._lock:
            entry = self._fetches.get(key)
            if entry is None or self._stale(entry, now):
                entry = self._fetches[key] = _Fetch(now)
                threading.Thread(
                    target=self._run, args=(entry, fetch), name="model-list", daemon=True
                ).start()
        entry.done.wait(max(0.0, entry.started + self.wait_s - now))
        return entry.result

    def forget(self, key: Hashable) -> None:
        """Ask again next time (the settings' "Test connection")."""
        with self._lock:
            self._fetches.pop(key, None)

    def _stale(self, entry: _Fetch, now: float) -> bool:
        if not entry.done.is_set():
            return False
        keep = self.ttl_s if entry.result.models is not None else self.retry_s
        return now - entry.finished > keep

    def _run(self, entry: _Fetch, fetch: Callable[[], ModelList]) -> None:
        try:
            entry.result = fetch()
        except Exception:  # fetch_model_list never raises; a test's fetch might
            entry.result = ModelList(None, "The model list could not be had.")
        entry.finished = self._clock()
        entry.done.set()


CATALOG = ModelCatalog()


class BackendCache:
    """Holds the back end for the latest settings; a change of settings builds a new one."""

    def __init__(
        self,
        factory: Callable[[Settings], Backend] = make_backend,
        catalog: ModelCatalog = CATALOG,
    ) -> None:
        self._factory = factory
        self._catalog = catalog
        self._settings: Settings | None = None
        self._backend: Backend | None = None
        self._lister: tuple[Settings, Backend] | None = None

    def backend(self, settings: Settings) -> Backend:
        """The back end for ``settings`` (ConfigError when they cannot work)."""
        if self._backend is None or settings != self._settings:
            self._backend = self._factory(settings)
            self._settings = settings
        return self._backend

    def model_list(self, settings: Settings, *, fresh: bool = False) -> ModelList:
        """The endpoint's chat models, from the process-wide catalog (``fresh``: ask again)."""
        # Its own back end: the one answers come from is built for the settings with the
        # model picked from this list, and rebuilding that one every rerun would lose its state.
        if self._lister is None or self._lister[0] != settings:
            self._lister = (settings, self._factory(settings))  # ConfigError here, at once
        backend = self._lister[1]
        key = endpoint_key(settings)
        if fresh:
            self._catalog.forget(key)
        return self._catalog.get(key, lambda: fetch_model_list(backend))

    def models(self, settings: Settings) -> list[str]:
        """The chat models the back end offers; [] when there is no list (yet)."""
        return list(self.model_list(settings).models or ())
