"""Saving an answer while the database fails: retried with backoff, never a crash or a lost text.

A database that goes away mid-answer (a managed PostgreSQL restarting, a full disk)
is a state of the answer, not an error page:

    Backoff          when to try a failed write again: 0.5 s, doubling, at most 8 s apart
    UnsavedAnswers   message id -> why its text is not in the database (yet); pages show it
    save_final       the finish callback's write: at once, then retried on a thread with
                     backoff; if the database never comes back, the row is at least
                     marked ``interrupted`` with the reason (small enough to fit a full disk)

The answer itself lives on in memory (its run) meanwhile, so the screen keeps streaming.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from chat_core.errors import StoreError

log = logging.getLogger(__name__)

# Tries after the first failed final write, seconds apart: about two minutes in all, the
# time a managed database takes to restart or fail over.
FINAL_SAVE_DELAYS_S: tuple[float, ...] = (0.5, 1, 2, 4, 8, 8, 15, 30, 60)


def save_problem(exc: StoreError) -> str:
    """Why a write failed, in the words the page shows beside the answer."""
    text = str(exc).lower()
    if "full" in text or "no space" in text or "too large" in text:
        return "the database is full"
    if "readonly" in text or "read-only" in text:
        return "the database is read-only"
    return "the database is unreachable"


def streaming_notice(problem: str) -> str:
    """What the page says while the answer goes on unsaved."""
    return f"Not saved: {problem}; the answer goes on and will be saved when it is back."


def pending_notice(problem: str) -> str:
    """What the page says once the answer is whole and its final save waits for the database."""
    return f"Not saved yet: {problem}; the answer will be saved when it is back."


def given_up_notice(problem: str) -> str:
    """What the page says once the final write was given up: only this screen has the text."""
    return f"Not saved: {problem}. This answer is only on this screen; copy it to keep it."


@dataclass
class Backoff:
    """When a failed write may be tried again: ``first_s``, doubling up to ``max_s``."""

    first_s: float = 0.5
    max_s: float = 8.0
    failures: int = 0
    next_at: float = 0.0

    def due(self, now: float) -> bool:
        return now >= self.next_at

    def failed(self, now: float) -> None:
        self.next_at = now + min(self.max_s, self.first_s * 2**self.failures)
        self.failures += 1

    def reset(self) -> None:
        self.failures = 0
        self.next_at = 0.0


class UnsavedAnswers:
    """Thread-safe message id -> the notice the page shows while its text is not stored."""

    def __init__(self) -> None:
        self._notices: dict[Hashable, str] = {}
        self._lock = threading.Lock()

    def set(self, message_id: Hashable | None, notice: str) -> None:
        if message_id is not None:
            with self._lock:
                self._notices[message_id] = notice

    def clear(self, message_id: Hashable | None) -> None:
        with self._lock:
            self._notices.pop(message_id, None)

    def get(self, message_id: Hashable | None) -> str | None:
        with self._lock:
            return self._notices.get(message_id)


UNSAVED = UnsavedAnswers()


def save_final(
    write: Callable[[], object],
    mark_interrupted: Callable[[str], object],
    done: Callable[[], object],
    *,
    message_id: Hashable | None,
    unsaved: UnsavedAnswers = UNSAVED,
    delays_s: tuple[float, ...] = FINAL_SAVE_DELAYS_S,
) -> None:
    """``write()`` now; if it fails, retry it on a thread with ``delays_s`` between tries.

    ``done()`` follows the last try whatever happened. When every try failed,
    ``mark_interrupted(reason)`` is tried once, so no row is left ``streaming`` while the
    database takes a small write, and the page says the answer is only on screen.
    """
    try:
        write()
    except StoreError as exc:
        problem = save_problem(exc)
        log.warning("the final answer was not saved (%s); retrying", problem)
        unsaved.set(message_id, pending_notice(problem))
    else:
        unsaved.clear(message_id)
        done()
        return

    def retry() -> None:
        problem = "the database is unreachable"
        try:
            for delay in delays_s:
                time.sleep(delay)
                try:
                    write()
                except StoreError as exc:
                    problem = save_problem(exc)
                    continue
                unsaved.clear(message_id)
                log.info("the final answer was saved after a retry")
                return
            unsaved.set(message_id, given_up_notice(problem))
            log.warning("the final answer was not saved (%s); gave up", problem)
            # if even this fails, recovery marks the row interrupted once the database is back
            with contextlib.suppress(StoreError):
                mark_interrupted(f"Not saved: {problem}.")
        finally:
            done()

    threading.Thread(target=retry, name="final-save-retry", daemon=True).start()
