"""Per-stream and per-session measurements: the seed's four metrics and more.

Pure: every function takes event arrival times (seconds on a monotonic clock)
rather than reading a clock, so tests inject exact timings. A live stream is
measured the same way, with ``now`` standing in for the end.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, Literal

from chat_core.events import Done, ReasoningDelta, StreamError, StreamEvent, TextDelta, Usage

AnswerStatus = Literal["streaming", "complete", "stopped", "interrupted", "error", "refused"]
STALL_S = 1.0  # a silence longer than this, once text has started, is a stall


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
    if done.refused:
        return "refused"
    return "complete"


def estimate_tokens(text: str) -> int:
    """About four characters a token; used when the back end reports no usage."""
    return (len(text) + 3) // 4


def estimate_stream_tokens(text: str, chunks: int) -> int:
    """Tokens of a stream without usage: one a chunk when chunks are token-sized.

    Chat APIs stream about one token per chunk, a better count than characters / 4
    (which overstates short-token text by a third); coalesced chunks fall back to it.
    """
    if chunks and len(text) / chunks <= 8:
        return chunks
    return estimate_tokens(text)


@dataclass(frozen=True)
class StreamMetrics:
    """Measurements of one answer. Times are seconds; None when not applicable.

    ``tokens`` is the back end's own count when it reported usage, else an estimate
    (``tokens_estimated``); ``total_s`` is None until the stream has ended, while
    ``elapsed_s`` always says how long it has run so far. ``first_token_s`` is the
    first *answer* token; ``first_reasoning_s`` the first reasoning token, and
    ``thinking_s`` how long reasoning went on before the answer began (or so far).
    ``reasoning_tokens`` is the provider's count, part of ``tokens``. Fields added
    later default to None, so older stored metrics still load.
    """

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
    elapsed_s: float | None = None
    first_reasoning_s: float | None = None
    thinking_s: float | None = None
    reasoning_tokens: int | None = None
    finish_reason: str | None = None

    def caption(self) -> str:
        """One line for under an answer, e.g. 'first token 0.42 s · 58 tok/s · 312 tokens'."""
        parts: list[str] = []
        if self.first_reasoning_s is not None:
            parts.append(f"first thought {self.first_reasoning_s:.2f} s")
        if self.first_token_s is not None:
            parts.append(f"first token {self.first_token_s:.2f} s")
        if self.tokens_per_s is not None:
            parts.append(f"{self.tokens_per_s:.0f} tok/s")
        reasoning = f" ({self.reasoning_tokens} reasoning)" if self.reasoning_tokens else ""
        parts.append(f"{self.tokens_label} tokens{reasoning}")
        if self.total_s is not None:
            parts.append(f"{self.total_s:.1f} s")
        if self.stalls:
            parts.append(f"{self.stalls} stall{'s' if self.stalls > 1 else ''}")
        if self.reconnects:
            parts.append(f"{self.reconnects} reconnect{'s' if self.reconnects > 1 else ''}")
        return " · ".join(parts)

    def continuing(self, earlier: StreamMetrics | None) -> StreamMetrics:
        """A continued answer's metrics: this run's added to the earlier part's, so the
        caption counts the whole answer, not only the continuation."""
        if earlier is None:
            return self
        busy = [
            m.total_s - m.first_token_s
            for m in (earlier, self)
            if m.total_s is not None and m.first_token_s is not None
        ]
        tokens = earlier.tokens + self.tokens
        both = (earlier.reasoning_tokens, self.reasoning_tokens)
        return replace(
            self,
            first_token_s=earlier.first_token_s,
            first_reasoning_s=earlier.first_reasoning_s,
            total_s=_plus(earlier.total_s, self.total_s),
            chunks=earlier.chunks + self.chunks,
            tokens=tokens,
            tokens_estimated=earlier.tokens_estimated or self.tokens_estimated,
            tokens_per_s=tokens / sum(busy) if len(busy) == 2 and sum(busy) > 0 else None,
            stalls=earlier.stalls + self.stalls,
            reconnects=earlier.reconnects + self.reconnects,
            reasoning_tokens=None if both == (None, None) else sum(n or 0 for n in both),
        )

    @property
    def tokens_label(self) -> str:
        """The token count, with ``~`` when it is an estimate."""
        return f"{'~' if self.tokens_estimated else ''}{self.tokens}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StreamMetrics | None:
        """Metrics read back from storage; None when they do not fit (an older format)."""
        names = {f.name for f in fields(cls)}
        try:
            return cls(**{k: v for k, v in data.items() if k in names})
        except TypeError:
            return None


def measure(
    started_at: float,
    events: Sequence[StreamEvent],
    arrival_times: Sequence[float],
    *,
    reconnects: int = 0,
    now: float | None = None,
) -> StreamMetrics:
    """Measure one stream from its events and their arrival times.

    ``now`` measures a live stream: the elapsed time and a silence still going on
    count up to it. Extra events without an arrival time (a run read between its
    two appends) are left out.
    """
    n = min(len(events), len(arrival_times))
    events, arrival_times = events[:n], arrival_times[:n]
    # Empty deltas (a role-only first chunk) are not the first token.
    text_events = [
        (e, t)
        for e, t in zip(events, arrival_times, strict=True)
        if isinstance(e, TextDelta) and e.text
    ]
    text_times = [t for _, t in text_events]
    text = "".join(e.text for e, _ in text_events)
    thought_times = [
        t
        for e, t in zip(events, arrival_times, strict=True)
        if isinstance(e, ReasoningDelta) and e.text
    ]
    # Providers may repeat usage in every chunk: the last one is the answer's only usage.
    usage = next((e for e in reversed(events) if isinstance(e, Usage)), None)
    error = next((e for e in events if isinstance(e, StreamError)), None)
    status = answer_status(events)
    finished = status != "streaming"
    done = events[-1] if finished and isinstance(events[-1], Done) else None
    end = arrival_times[-1] if finished else now
    if end is None and arrival_times:
        end = arrival_times[-1]
    tokens = usage.completion_tokens if usage else estimate_stream_tokens(text, len(text_times))
    reasoning_tokens = usage.reasoning_tokens if usage else None
    answer_tokens = max(0, tokens - (reasoning_tokens or 0))  # the rate is of the answer
    rate = None
    if len(text_times) > 1 and text_times[-1] > text_times[0]:
        # The first chunk carries time-to-first-token; the rate is over the chunks after it.
        span = text_times[-1] - text_times[0]
        rate = answer_tokens * (len(text_times) - 1) / len(text_times) / span
    thinking_s = None
    if thought_times:
        thinking_end = text_times[0] if text_times else end
        thinking_s = max(0.0, (thinking_end or thought_times[-1]) - thought_times[0])
    gaps = [b - a for a, b in itertools.pairwise(text_times)]
    stalls = sum(1 for g in gaps if g > STALL_S)
    # A silence after the last chunk is a stall too: before the end, or still going on.
    if text_times and end is not None and end - text_times[-1] > STALL_S:
        stalls += 1
    return StreamMetrics(
        first_token_s=(text_times[0] - started_at) if text_times else None,
        total_s=(end - started_at) if finished and end is not None else None,
        chunks=len(text_times),
        tokens=tokens,
        tokens_estimated=usage is None,
        tokens_per_s=rate,
        gap_p50_s=percentile(gaps, 50),
        gap_p95_s=percentile(gaps, 95),
        gap_max_s=max(gaps) if gaps else None,
        stalls=stalls,
        reconnects=reconnects,
        status=status,
        error_code=error.code if error else None,
        prompt_tokens=usage.prompt_tokens if usage else None,
        elapsed_s=(end - started_at) if end is not None else None,
        first_reasoning_s=(thought_times[0] - started_at) if thought_times else None,
        thinking_s=thinking_s,
        reasoning_tokens=reasoning_tokens,
        finish_reason=done.finish_reason if done is not None else None,
    )


def chunk_gaps(events: Sequence[StreamEvent], arrival_times: Sequence[float]) -> list[float]:
    """The silences between consecutive text chunks, in seconds (for a histogram)."""
    times = [
        t
        for e, t in zip(events, arrival_times, strict=False)
        if isinstance(e, TextDelta) and e.text
    ]
    return [b - a for a, b in itertools.pairwise(times)]


def token_timeline(
    started_at: float, events: Sequence[StreamEvent], arrival_times: Sequence[float]
) -> list[tuple[float, float]]:
    """Cumulative tokens over time, ``(seconds since start, tokens)`` per text chunk.

    Tokens are spread over chunks in proportion to their characters, so the line
    ends at the same count ``measure`` reports (usage when known, else the estimate).
    """
    n = min(len(events), len(arrival_times))
    pairs = [
        (e.text, t)
        for e, t in zip(events[:n], arrival_times[:n], strict=True)
        if isinstance(e, TextDelta) and e.text
    ]
    chars = sum(len(text) for text, _ in pairs)
    if not chars:
        return []
    usage = next((e for e in reversed(events[:n]) if isinstance(e, Usage)), None)
    tokens = usage.completion_tokens if usage else estimate_tokens("".join(t for t, _ in pairs))
    if usage is not None and usage.reasoning_tokens:  # reasoning is not on this line
        tokens = max(0, tokens - usage.reasoning_tokens)
    out: list[tuple[float, float]] = []
    seen = 0
    for text, at in pairs:
        seen += len(text)
        out.append((at - started_at, tokens * seen / chars))
    return out


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
        if metrics.status in ("complete", "refused"):  # a refusal is an answer too
            self.completions += 1
        elif metrics.status == "stopped":
            self.cancels += 1
        elif metrics.status in ("error", "interrupted"):
            # A failed stream always counts, even if no back end named the cause.
            self.errors_by_code[metrics.error_code or "unknown"] += 1

    @property
    def errors(self) -> int:
        return sum(self.errors_by_code.values())

    @property
    def error_rate(self) -> float | None:
        return self.errors / self.requests if self.requests else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "completions": self.completions,
            "cancels": self.cancels,
            "reconnects": self.reconnects,
            "errors": self.errors,
            "error_rate": self.error_rate,
            "errors_by_code": dict(sorted(self.errors_by_code.items())),
        }


def _plus(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a + b
