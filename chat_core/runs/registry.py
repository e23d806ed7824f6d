"""The run registry: runs by id, bounded in count, active runs and buffered bytes, with a TTL."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

from chat_core.errors import CapacityError
from chat_core.runs.run import Run


class RunRegistry:
    """Holds runs by id, bounded in count, active runs and buffered bytes; expires finished ones."""

    def __init__(
        self,
        *,
        max_active: int = 2000,
        max_runs: int = 10_000,
        max_buffer_bytes: int = 256 * 1024 * 1024,
        ttl_s: float = 600.0,
    ) -> None:
        self.max_active = max_active
        self.max_runs = max_runs
        self.max_buffer_bytes = max_buffer_bytes
        self.ttl_s = ttl_s
        self._runs: OrderedDict[str, Run] = OrderedDict()
        self._active: set[str] = set()  # kept by finish callbacks: ``create`` stays O(1)
        self._lock = threading.Lock()
        self._pruned_at = float("-inf")

    def __len__(self) -> int:
        return len(self._runs)

    @property
    def active(self) -> int:
        return len(self._active)

    def create(self, run_id: str | None = None) -> Run:
        """A new registered run; CapacityError when ``max_active`` runs are going."""
        with self._lock:
            self._prune_locked()
            if len(self._active) >= self.max_active:
                raise CapacityError("Too many answers are streaming right now; retry shortly.")
            run = Run(run_id)
            self._runs[run.id] = run
            self._active.add(run.id)
        run.add_finish_callback(self._finished)
        return run

    def _finished(self, run: Run) -> None:
        with self._lock:
            self._active.discard(run.id)

    def get(self, run_id: str) -> Run | None:
        with self._lock:
            run = self._runs.get(run_id)
            if run is not None and self._expired(run, time.monotonic()):
                del self._runs[run_id]
                return None
            return run

    def cancel_all(self) -> int:
        """Cancel every active run (a server shutting down); returns how many."""
        with self._lock:
            runs = [self._runs[rid] for rid in self._active if rid in self._runs]
        return sum(run.cancel() for run in runs)

    def _expired(self, run: Run, now: float) -> bool:
        return run.finished_at is not None and now - run.finished_at > self.ttl_s

    def _prune_locked(self) -> None:
        # A full pass is O(runs): under a burst of creates do it at most once a second.
        now = time.monotonic()
        if now - self._pruned_at < 1.0 and len(self._runs) < self.max_runs:
            return
        self._pruned_at = now
        for rid in [rid for rid, r in self._runs.items() if self._expired(r, now)]:
            del self._runs[rid]
        total = sum(r.approx_bytes() for r in self._runs.values())
        finished = [rid for rid, r in self._runs.items() if r.finished]  # oldest first
        while finished and (len(self._runs) >= self.max_runs or total > self.max_buffer_bytes):
            total -= self._runs.pop(finished.pop(0)).approx_bytes()
