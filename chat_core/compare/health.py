"""Live stream health per lane, and the best value of each metric once every lane is done.

The numbers are the chat's own (``chat_core.metrics.measure`` over the run's events and
arrival times, ``estimate_cost`` with the same price table), measured up to ``now`` while
a lane streams. Pure: a run or stored metrics in, a ``LaneHealth`` out.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from chat_core.chat.live import waiting_seconds
from chat_core.chat.pricing import ModelPrice, estimate_cost, format_cost
from chat_core.metrics import StreamMetrics, measure
from chat_core.runs import Run

# metric -> True when more is better; the metrics a finished compare marks its best of
BEST_OF: Mapping[str, bool] = {
    "first_token_s": False,
    "tokens_per_s": True,
    "total_s": False,
    "stalls": False,
    "cost_usd": False,
}


@dataclass(frozen=True)
class LaneHealth:
    """What a lane shows under its answer, live and after."""

    status: str  # streaming, complete, stopped, interrupted, error, refused
    elapsed_s: float | None
    waiting_s: float | None  # waiting for the first token, or stalled: how long so far
    first_token_s: float | None
    tokens_per_s: float | None
    tokens: int
    tokens_estimated: bool
    cost_usd: float | None
    stalls: int
    reconnects: int
    total_s: float | None = None
    finish_reason: str | None = None
    error: str | None = None

    @property
    def done(self) -> bool:
        return self.status != "streaming"

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def _health(
    metrics: StreamMetrics,
    model: str | None,
    prices: Mapping[str, ModelPrice] | None,
    *,
    waiting_s: float | None = None,
    error: str | None = None,
) -> LaneHealth:
    cost = estimate_cost(model, metrics.prompt_tokens or 0, metrics.tokens, prices)
    return LaneHealth(
        status=metrics.status,
        elapsed_s=metrics.elapsed_s,
        waiting_s=waiting_s,
        first_token_s=metrics.first_token_s,
        tokens_per_s=metrics.tokens_per_s,
        tokens=metrics.tokens,
        tokens_estimated=metrics.tokens_estimated,
        cost_usd=cost,
        stalls=metrics.stalls,
        reconnects=metrics.reconnects,
        total_s=metrics.total_s,
        finish_reason=metrics.finish_reason,
        error=error,
    )


def live_health(
    run: Run,
    model: str | None,
    prices: Mapping[str, ModelPrice] | None = None,
    now: float | None = None,
) -> LaneHealth:
    """A lane's health from its run, measured up to ``now`` while it streams."""
    now = time.monotonic() if now is None else now
    metrics = measure(
        run.created_at, run.events, run.arrival_times, reconnects=run.reconnects, now=now
    )
    error = run.error.message if run.error is not None else None
    return _health(metrics, model, prices, waiting_s=waiting_seconds(run, now), error=error)


def stored_health(
    stored: Mapping[str, Any], model: str | None, prices: Mapping[str, ModelPrice] | None = None
) -> LaneHealth | None:
    """A finished lane's health from its stored metrics; None when there are none."""
    metrics = StreamMetrics.from_dict(stored)
    if metrics is None:
        return None
    message = stored.get("error_message")
    return _health(metrics, model, prices, error=message if isinstance(message, str) else None)


def best_lanes(healths: Sequence[LaneHealth | None]) -> dict[str, set[int]]:
    """Per metric, the lanes with its best value; empty until every lane is done."""
    if not healths or any(h is None or not h.done for h in healths):
        return {}
    out: dict[str, set[int]] = {}
    for name, more_is_better in BEST_OF.items():
        values = {
            i: getattr(h, name)
            for i, h in enumerate(healths)
            if h is not None and h.status == "complete" and getattr(h, name) is not None
        }
        if len(values) < 2 or len(set(values.values())) == 1:  # a best of one, or all alike
            continue
        best = max(values.values()) if more_is_better else min(values.values())
        out[name] = {i for i, v in values.items() if v == best}
    return out


def health_parts(health: LaneHealth, best: Collection[str] = ()) -> list[str]:
    """The lane's health as short markdown pieces; a best value gets a star."""

    def mark(name: str, text: str) -> str:
        return f"**{text}** ★" if name in best else text

    parts: list[str] = []
    if health.waiting_s is not None:
        what = "waiting for the first token" if health.first_token_s is None else "stalled"
        parts.append(f"{what} {health.waiting_s:.0f} s")
    if health.first_token_s is not None:
        parts.append(mark("first_token_s", f"first token {health.first_token_s:.2f} s"))
    if health.tokens_per_s is not None:
        parts.append(mark("tokens_per_s", f"{health.tokens_per_s:.0f} tok/s"))
    parts.append(f"{'~' if health.tokens_estimated else ''}{health.tokens} tokens")
    if health.cost_usd is not None:
        parts.append(mark("cost_usd", format_cost(health.cost_usd)))
    if health.total_s is not None:
        parts.append(mark("total_s", f"{health.total_s:.1f} s"))
    elif health.elapsed_s is not None:
        parts.append(f"{health.elapsed_s:.1f} s so far")
    parts.append(mark("stalls", f"{health.stalls} stall{'s' if health.stalls != 1 else ''}"))
    if health.reconnects:
        parts.append(f"{health.reconnects} reconnect{'s' if health.reconnects > 1 else ''}")
    if health.done:
        parts.append(f"finish `{health.finish_reason or health.status}`")
    return parts


__all__ = ["BEST_OF", "LaneHealth", "best_lanes", "health_parts", "live_health", "stored_health"]
