"""Per-stream and per-session measurements: the seed's four metrics and more.

Pure: every function takes event arrival times (seconds on a monotonic clock)
rather than reading a clock, so tests inject exact timings.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from chat_core.events import Done, StreamError, StreamEvent, TextDelta, Usage

AnswerStatus = Literal["streaming", "complete", "stopped", "interrupted", "error"]
STALL_S = 1.0


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0-100), linear between closest ranks; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100.0
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def answer_status(events: Sequence[StreamEvent]) -> AnswerStatus:
    """What the UI says about an answer, from its events."""
    done = events[-1] if events and isinstance(events[-1], Done) else None
    if done is None:
        return "streaming"
    if done.finish_reason == "cancelled":
        return "stopped"
    if done.finish_reason == "error":
        error = next((e for e in events if isinstance(e, StreamError)), None)
        return "interrupted" if error is not None and error.code == "connection" else "error"
    return "complete"


def estimate_tokens(text: str) -> int:
    """About four characters a token; used when the back end reports no usage."""
    return (len(text) + 3) // 4


@dataclass(frozen=True)
class StreamMetrics:
    """Measurements of one answer. Times are seconds; None when not applicable."""

    first_token_s: float | None
    total_s: float | None
    chunks: int
    tokens: int
    tokens_estimated: bool
    tokens_per_s: float | None
    gap_p50_s: float | None
    gap_p95_s: float | None
    gap_max_s: float | None
    stalls: int
    reconnects: int
    status: AnswerStatus
    error_code: str | None
    prompt_tokens: int | None = None

    def caption(self) -> str:
        """One line for under an answer, e.g. 'first token 0.42 s · 58 tok/s · 312 tokens'."""
        parts: list[str] = []
        if self.first_token_s is not None:
            parts.append(f"first token {self.first_token_s:.2f} s")
        if self.tokens_per_s is not None:
            parts.append(f"{self.tokens_per_s:.0f} tok/s")
        approx = "~" if self.tokens_estimated else ""
        parts.append(f"{approx}{self.tokens} tokens")
        if self.total_s is not None:
            parts.append(f"{self.total_s:.1f} s")
        if self.stalls:
            parts.append(f"{self.stalls} stall{'s' if self.stalls > 1 else ''}")
        if self.reconnects:
            parts.append(f"{self.reconnects} reconnect{'s' if self.reconnects > 1 else ''}")
        return " · ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def measure(
    started_at: float,
    events: Sequence[StreamEvent],
    arrival_times: Sequence[float],
    *,
    reconnects: int = 0,
) -> StreamMetrics:
    """Measure one stream from its events and their arrival times."""
    text_times = [t for e, t in zip(events, arrival_times, strict=True) if isinstance(e, TextDelta)]
    text = "".join(e.text for e in events if isinstance(e, TextDelta))
    usage = next((e for e in reversed(events) if isinstance(e, Usage)), None)
    error = next((e for e in events if isinstance(e, StreamError)), None)
    status = answer_status(events)
    finished = status != "streaming"
    total = (arrival_times[-1] - started_at) if finished and arrival_times else None
    first = (text_times[0] - started_at) if text_times else None
    tokens = usage.completion_tokens if usage else estimate_tokens(text)
    rate = None
    if text_times and len(text_times) > 1 and text_times[-1] > text_times[0]:
        # tokens after the first one, over the time they took
        rate = tokens * (len(text_times) - 1) / len(text_times) / (text_times[-1] - text_times[0])
    gaps = [b - a for a, b in zip(text_times, text_times[1:], strict=False)]
    return StreamMetrics(
        first_token_s=first,
        total_s=total,
        chunks=len(text_times),
        tokens=tokens,
        tokens_estimated=usage is None,
        tokens_per_s=rate,
        gap_p50_s=percentile(gaps, 50),
        gap_p95_s=percentile(gaps, 95),
        gap_max_s=max(gaps) if gaps else None,
        stalls=sum(1 for g in gaps if g > STALL_S),
        reconnects=reconnects,
        status=status,
        error_code=error.code if error else None,
        prompt_tokens=usage.prompt_tokens if usage else None,
    )


@dataclass
class SessionStats:
    """Aggregates over every answer of a session."""

    requests: int = 0
    completions: int = 0
    cancels: int = 0
    reconnects: int = 0
    errors_by_code: Counter[str] = field(default_factory=Counter)

    def add(self, metrics: StreamMetrics) -> None:
        self.requests += 1
        self.reconnects += metrics.reconnects
        if metrics.status == "complete":
            self.completions += 1
        elif metrics.status == "stopped":
            self.cancels += 1
        elif metrics.error_code is not None:
            self.errors_by_code[metrics.error_code] += 1

    @property
    def errors(self) -> int:
        return sum(self.errors_by_code.values())

    @property
    def error_rate(self) -> float | None:
        return self.errors / self.requests if self.requests else None
