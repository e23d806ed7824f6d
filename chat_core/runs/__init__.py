"""Runs: generations that outlive their consumers.

run        ``Run``: one generation's seq-numbered buffer, its producer task, its readers
registry   ``RunRegistry``: runs by id, bounded, expiring
loop       ``BackgroundLoop`` and ``start_run``: where a sync app's runs pull from back ends
"""

from __future__ import annotations

from chat_core.runs.loop import BackgroundLoop, start_run
from chat_core.runs.registry import RunRegistry
from chat_core.runs.run import Run

__all__ = ["BackgroundLoop", "Run", "RunRegistry", "start_run"]
