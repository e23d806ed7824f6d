"""Wall time spent in SQL statements, for every SQLAlchemy engine in the process (benchmarks)."""

from __future__ import annotations

import threading
import time
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine


class SqlTimer:
    """Sums the time between each statement's start and end in the thread that reset it."""

    def __init__(self) -> None:
        self.seconds, self.statements = 0.0, 0
        self._thread: int | None = None
        self._started: dict[int, float] = {}
        event.listen(Engine, "before_cursor_execute", self._before)
        event.listen(Engine, "after_cursor_execute", self._after)

    def reset(self) -> None:
        self.seconds, self.statements = 0.0, 0
        self._thread = threading.get_ident()

    def _before(self, _conn: Any, cursor: Any, *_args: Any) -> None:
        self._started[id(cursor)] = time.perf_counter()

    def _after(self, _conn: Any, cursor: Any, *_args: Any) -> None:
        started = self._started.pop(id(cursor), None)
        if started is not None and threading.get_ident() == self._thread:
            self.seconds += time.perf_counter() - started
            self.statements += 1


SQL_TIMER = SqlTimer()
