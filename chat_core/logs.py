"""Safe logging of streams: ids, sizes and timings at INFO; content only at DEBUG.

Prompts and answers stay out of production logs; every server and page logs a
stream's start and end through these two functions.
"""

from __future__ import annotations

import logging

from chat_core.metrics import StreamMetrics

log = logging.getLogger("chat_core.streams")


def log_stream_start(kind: str, stream_id: str, *, backend: str, prompt: str) -> None:
    """INFO: the stream's id, back end and prompt size; the prompt itself only at DEBUG."""
    log.info("%s %s start backend=%s prompt_chars=%d", kind, stream_id, backend, len(prompt))
    log.debug("%s %s prompt=%r", kind, stream_id, prompt)


def log_stream_end(kind: str, stream_id: str, metrics: StreamMetrics, nbytes: int) -> None:
    """INFO: how the stream ended, its sizes and timings; never its text."""
    log.info(
        "%s %s end status=%s error=%s chunks=%d tokens=%s bytes=%d first_token_s=%s "
        "total_s=%s stalls=%d reconnects=%d",
        kind,
        stream_id,
        metrics.status,
        metrics.error_code or "-",
        metrics.chunks,
        metrics.tokens_label,
        nbytes,
        _fmt(metrics.first_token_s),
        _fmt(metrics.total_s),
        metrics.stalls,
        metrics.reconnects,
    )


def _fmt(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds:.3f}"
