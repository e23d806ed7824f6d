"""Runs: generations that outlive their consumers.

run        ``Run``: one generation's seq-numbered buffer, its producer task, its readers
registry   ``RunRegistry``: runs by id, bounded, expiring
loop       ``BackgroundLoop`` and ``start_run``: where a sync app's runs pull from back ends
store      ``RunStore``: where a server keeps runs; ``MemoryRunStore``, ``make_run_store``
codec      exact event <-> bytes for stores outside the process
redis_*    ``RedisRunStore`` (``redis_store``): Redis Streams, leases, fencing, followers
"""

from __future__ import annotations

from chat_core.runs.loop import BackgroundLoop, start_run
from chat_core.runs.registry import RunRegistry
from chat_core.runs.run import Run
from chat_core.runs.store import CancelResult, MemoryRunStore, RunStore, make_run_store

__all__ = [
    "BackgroundLoop",
    "CancelResult",
    "MemoryRunStore",
    "Run",
    "RunRegistry",
    "RunStore",
    "make_run_store",
    "start_run",
]
