"""What the diagnostics page shows, as plain values: metric labels, histograms, tables.

Pure, so the page only lays things out and the formatting is unit-tested.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from chat_core.chat.status import status_badge as chat_status_badge
from chat_core.metrics import SessionStats, StreamMetrics


def _s(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f} s"


def _ms(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.2f} s" if value >= 1 else f"{value * 1000:.0f} ms"


def metric_values(m: StreamMetrics, nbytes: int | None = None) -> list[tuple[str, str]]:
    """(label, value) for each ``st.metric`` of one stream, in display order.

    Values stay short (a few characters) so that four fit in a row of the centered layout.
    The reasoning metrics only for a stream with reasoning: a plain stream showed three "—".
    """
    reasoned = (m.first_reasoning_s, m.thinking_s, m.reasoning_tokens) != (None, None, None)
    reasoning = [
        ("First thought", _s(m.first_reasoning_s)),
        ("Thinking", _s(m.thinking_s, 1)),
        ("Reasoning tokens", "—" if m.reasoning_tokens is None else str(m.reasoning_tokens)),
    ]
    return [
        *(reasoning if reasoned else []),
        ("First token", _s(m.first_token_s)),
        ("Tokens/s", "—" if m.tokens_per_s is None else f"{m.tokens_per_s:.1f}"),
        ("Tokens (estimated)" if m.tokens_estimated else "Tokens", m.tokens_label),
        ("Chunks", str(m.chunks)),
        ("Total" if m.total_s is not None else "Elapsed", _s(m.elapsed_s, 1)),
        ("Gap p50", _ms(m.gap_p50_s)),
        ("Gap p95", _ms(m.gap_p95_s)),
        ("Gap max", _ms(m.gap_max_s)),
        ("Stalls > 1 s", str(m.stalls)),
        ("Reconnects", str(m.reconnects)),
        ("Prompt tokens", "—" if m.prompt_tokens is None else str(m.prompt_tokens)),
        ("Bytes", "—" if nbytes is None else _size(nbytes)),
    ]


def _size(nbytes: int) -> str:
    return f"{nbytes} B" if nbytes < 10_000 else f"{nbytes / 1000:.0f} kB"


def status_badge(m: StreamMetrics) -> str:
    """The stream's status (and error code) as a Streamlit markdown badge."""
    return chat_status_badge(m.status, word=m.status, detail=m.error_code or "")


def session_summary(stats: SessionStats) -> list[tuple[str, str]]:
    """(label, value) for a session's aggregates."""
    rate = stats.error_rate
    return [
        ("Requests", str(stats.requests)),
        ("Completed", str(stats.completions)),
        ("Errors", str(stats.errors)),
        ("Error rate", "—" if rate is None else f"{rate:.0%}"),
        ("Reconnects", str(stats.reconnects)),
        ("Cancels", str(stats.cancels)),
    ]


def load_values(summary: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, value) for a load test's ``LoadReport.summary()``."""
    return [
        ("Completed", f"{summary['completed']} / {summary['streams']}"),
        ("Failures", str(summary["failures"])),
        ("First token p50", _s(summary["first_token_p50_s"])),
        ("First token p95", _s(summary["first_token_p95_s"])),
        ("Duration p50", _s(summary["total_p50_s"])),
        ("Wall time", _s(summary["wall_s"])),
    ]


def session_answers(turns: Iterable[Any]) -> list[dict[str, Any]]:
    """One row per measured answer of a chat session (its ``ChatTurn``s)."""
    measured = [t for t in turns if getattr(t, "metrics", None) is not None]
    return [
        {"answer": i, "model": t.model, **t.metrics.to_dict()} for i, t in enumerate(measured, 1)
    ]


def nice_step(raw: float) -> float:
    """The 1, 2 or 5 times a power of ten at or above ``raw``: bins a reader can add up."""
    if raw <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw * (1 - 1e-9))


def histogram(
    values: Sequence[float], bins: int = 20, min_width: float = 0.0
) -> dict[str, list[float]]:
    """Bins of a round width (0.02, not 0.01923) as columns ``from`` and ``count``.

    Columns rather than rows, so an empty histogram still has them (charts need them).
    No bin narrower than ``min_width``: 15 bins over 1 ms of a load test were noise
    with unreadable labels.
    """
    if not values:
        return {"from": [], "count": []}
    bins = max(1, min(bins, len(values)))
    low, high = min(values), max(values)
    width = nice_step(max((high - low) / bins, min_width)) if high > low else 1.0
    start = math.floor(low / width) * width
    count = max(1, math.floor((high - start) / width) + 1)
    counts = [0] * count
    for v in values:
        counts[min(int((v - start) / width + 1e-9), count - 1)] += 1
    digits = max(0, -math.floor(math.log10(width)))
    return {
        "from": [round(start + i * width, digits) for i in range(count)],
        "count": [float(c) for c in counts],
    }


# field name -> the column header a reader understands
HEADERS: dict[str, str] = {
    "answer": "Answer",
    "index": "Stream",
    "stream_id": "Stream id",
    "model": "Model",
    "status": "Status",
    "error_code": "Error",
    "http_status": "HTTP status",
    "first_token_s": "First token (s)",
    "total_s": "Total (s)",
    "elapsed_s": "Elapsed (s)",
    "tokens": "Tokens",
    "tokens_estimated": "Tokens estimated",
    "tokens_per_s": "Tokens/s",
    "chunks": "Chunks",
    "gap_p50_s": "Gap p50 (s)",
    "gap_p95_s": "Gap p95 (s)",
    "gap_max_s": "Longest gap (s)",
    "stalls": "Stalls > 1 s",
    "reconnects": "Reconnects",
    "prompt_tokens": "Prompt tokens",
    "completion_tokens": "Completion tokens",
    "bytes": "Bytes",
}


def header(name: str) -> str:
    """A human column header for a measurement field ('first_token_s' -> 'First token (s)')."""
    if name in HEADERS:
        return HEADERS[name]
    words = name.removesuffix("_s").replace("_", " ")
    return words[:1].upper() + words[1:] + (" (s)" if name.endswith("_s") else "")


def _rounded(value: Any) -> Any:
    if isinstance(value, float) and not isinstance(value, bool):
        return round(value, 3 if abs(value) < 1 else 2)
    return value


def readable_rows(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows for a table on screen: human headers, seconds to the millisecond."""
    return [{header(k): _rounded(v) for k, v in row.items()} for row in rows]


def load_progress(finished: int, failed: int, streams: int) -> tuple[float, str]:
    """The load test's bar: how far along, and failures said as failures."""
    ok = finished - failed
    text = f"{finished} of {streams} streams ended: {ok} answered"
    if failed:
        text += f", {failed} failed"
    return finished / streams if streams else 1.0, text
