"""A bounded load test: N concurrent streams against a gateway, each one measured.

The client is deliberately lean and speaks wire protocol v1 itself (httpx and
``protocol.SSEParser``), so it measures the gateway, not a back end class: a
POST per stream, and when a connection is cut before ``done``, a resume with
``Last-Event-ID`` after the server's ``retry`` delay, as an EventSource does.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from chat_core.backends.visitor_http import avisitor_client, check_endpoint
from chat_core.errors import BackendError, ConfigError, EndpointRefusedError
from chat_core.events import Done, StreamError, StreamEvent
from chat_core.logs import log_stream_end
from chat_core.metrics import StreamMetrics, measure, percentile
from chat_core.settings import Settings, VisitorEndpoints
from chat_core.wire import (
    STREAM_ID_HEADER,
    STREAM_PATH,
    SSEMessage,
    SSEParser,
    decode_data,
    parse_event_id,
    status_error,
)

log = logging.getLogger("chat_core.diagnostics")

MAX_LOAD_STREAMS = 100  # a demo tool, not a benchmark harness (see bench/ for that)
MAX_RECONNECTS = 3
MAX_RETRY_WAIT_S = 2.0


@dataclass(frozen=True)
class LoadTarget:
    """Where a load test goes: the owner's gateway with the owner's token, or a visitor's URL.

    ``visitor`` is the policy for a URL a visitor typed (None for the owner's): such a URL
    gets only the token the visitor typed, through a client that takes nothing from the
    environment and follows no redirects.
    """

    url: str
    token: str | None = field(default=None, repr=False)
    visitor: VisitorEndpoints | None = None

    @classmethod
    def choose(cls, settings: Settings, url: str = "", token: str = "") -> LoadTarget:
        """The visitor's URL and token when a URL was typed, else the owner's gateway."""
        if url.strip():
            check_endpoint(url.strip(), settings.visitor_policy)
            return cls(url.strip(), token.strip() or None, settings.visitor_policy)
        if not settings.remote_url:
            raise ConfigError("Enter a gateway URL: this app has none configured.")
        return cls(settings.remote_url, token.strip() or settings.gateway_token)


@dataclass(frozen=True)
class LoadResult:
    """One stream of a load test."""

    index: int
    stream_id: str | None
    http_status: int | None
    nbytes: int
    metrics: StreamMetrics

    def row(self) -> dict[str, Any]:
        head = {"stream": self.index, "stream_id": self.stream_id}
        return {**head, "http_status": self.http_status, "bytes": self.nbytes,
                **self.metrics.to_dict()}  # fmt: skip


@dataclass(frozen=True)
class LoadReport:
    """A finished load test: what was asked, every stream, and the wall time."""

    url: str
    streams: int
    results: tuple[LoadResult, ...]
    wall_s: float

    @property
    def failures(self) -> int:
        return sum(1 for r in self.results if r.metrics.status != "complete")

    def first_token_s(self) -> list[float]:
        return [v for r in self.results if (v := r.metrics.first_token_s) is not None]

    def total_s(self) -> list[float]:
        return [v for r in self.results if (v := r.metrics.total_s) is not None]

    def summary(self) -> dict[str, Any]:
        """Counts and the first-token and duration distributions."""
        first, total = self.first_token_s(), self.total_s()
        failed = [r.metrics for r in self.results if r.metrics.status != "complete"]
        return {
            "streams": self.streams,
            "completed": self.streams - len(failed),
            "failures": len(failed),
            "failures_by_code": dict(
                sorted(Counter(m.error_code or m.status for m in failed).items())
            ),
            "reconnects": sum(r.metrics.reconnects for r in self.results),
            "wall_s": self.wall_s,
            "first_token_p50_s": percentile(first, 50),
            "first_token_p95_s": percentile(first, 95),
            "first_token_max_s": max(first, default=None),
            "total_p50_s": percentile(total, 50),
            "total_p95_s": percentile(total, 95),
            "total_max_s": max(total, default=None),
        }


def stream_url(url: str) -> str:
    """The gateway's stream endpoint, from its base URL or from the endpoint itself."""
    url = url.strip().rstrip("/")
    return url if url.endswith(STREAM_PATH) else url + STREAM_PATH


def _stream_of(event_id: str) -> str | None:
    try:
        return parse_event_id(event_id)[0]
    except ValueError:  # no id, or not ours: nothing to resume
        return None


async def astream_once(
    client: httpx.AsyncClient,
    url: str,
    message: str,
    *,
    index: int = 0,
    token: str | None = None,
    clock: Callable[[], float] = time.monotonic,
    max_reconnects: int = MAX_RECONNECTS,
) -> LoadResult:
    """One stream over wire protocol v1, measured; never raises for HTTP or stream failures."""
    endpoint = stream_url(url)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    request: dict[str, Any] = {
        "method": "POST", "url": endpoint, "json": {"message": message, "history": []},
    }  # fmt: skip
    started = clock()
    events: list[StreamEvent] = []
    times: list[float] = []
    stream_id: str | None = None
    http_status: int | None = None
    last_id, nbytes, reconnects, retry_s = "", 0, 0, 1.0

    def add(*new: StreamEvent) -> None:
        for event in new:
            events.append(event)
            times.append(clock())

    def ended() -> bool:
        return bool(events) and isinstance(events[-1], Done)

    while not ended():
        try:
            async with client.stream(**request, headers=headers) as response:
                http_status = http_status or response.status_code
                if response.status_code != 200:
                    add(status_error(response.status_code, server="The gateway"), Done("error"))
                    break
                stream_id = stream_id or response.headers.get(STREAM_ID_HEADER)
                parser = SSEParser()
                try:
                    async for chunk in response.aiter_bytes():
                        nbytes += len(chunk)
                        for item in parser.feed(chunk):
                            if isinstance(item, SSEMessage) and (event := decode_data(item.data)):
                                add(event)
                        if ended():
                            break
                finally:
                    last_id = parser.last_event_id or last_id
                    if parser.retry_ms is not None:  # 0 is valid: reconnect at once
                        retry_s = parser.retry_ms / 1000
        except BackendError as exc:  # a malformed event: nothing after it can be trusted
            add(exc.to_event(), Done("error"))
        except EndpointRefusedError as exc:  # the address guard: nothing was sent
            add(StreamError("connection", str(exc), False), Done("error"))
        except httpx.TimeoutException:
            add(StreamError("timeout", "The gateway went quiet for too long.", True), Done("error"))
        except httpx.TransportError:
            pass  # cut: resumed below, as an EventSource would
        if ended():
            break
        stream_id = stream_id or _stream_of(last_id)
        if stream_id is None or reconnects >= max_reconnects:
            add(StreamError("connection", "The connection was cut.", True), Done("error"))
            break
        reconnects += 1
        await asyncio.sleep(min(retry_s, MAX_RETRY_WAIT_S))
        request = {"method": "GET", "url": f"{endpoint}/{stream_id}"}
        headers = {**headers, "Last-Event-ID": last_id}
    stream_id = stream_id or _stream_of(last_id)
    metrics = measure(started, events, times, reconnects=reconnects)
    return LoadResult(index, stream_id, http_status, nbytes, metrics)


async def aload_test(
    url: str,
    streams: int,
    message: str,
    *,
    token: str | None = None,
    visitor: VisitorEndpoints | None = None,
    timeout_s: float = 60.0,
    on_progress: Callable[[int, LoadResult], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> LoadReport:
    """Open ``streams`` concurrent streams (1 to ``MAX_LOAD_STREAMS``) and measure each.

    ``on_progress(finished_count, result)`` is called as each stream ends. ``visitor``:
    the URL was typed by a visitor (see ``LoadTarget``).
    """
    if not 1 <= streams <= MAX_LOAD_STREAMS:
        raise ValueError(f"streams must be between 1 and {MAX_LOAD_STREAMS}")
    endpoint = stream_url(url)
    log.info("load test start url=%s streams=%d prompt_chars=%d", endpoint, streams, len(message))
    finished = 0
    started = clock()
    limits = httpx.Limits(max_connections=streams, max_keepalive_connections=streams)
    timeout = httpx.Timeout(timeout_s, connect=10.0)
    if visitor is None:
        opened = httpx.AsyncClient(limits=limits, timeout=timeout)
    else:
        opened = avisitor_client(visitor, limits=limits, timeout=timeout)
    async with opened as client:

        async def one(i: int) -> LoadResult:
            nonlocal finished
            result = await astream_once(
                client, endpoint, message, index=i, token=token, clock=clock
            )
            log_stream_end("load", result.stream_id or f"#{i}", result.metrics, result.nbytes)
            finished += 1
            if on_progress is not None:
                on_progress(finished, result)
            return result

        results = await asyncio.gather(*(one(i) for i in range(1, streams + 1)))
    report = LoadReport(endpoint, streams, tuple(results), clock() - started)
    log.info(
        "load test end streams=%d failures=%d wall_s=%.3f", streams, report.failures, report.wall_s
    )
    return report


def run_load_test(url: str, streams: int, message: str, **options: Any) -> LoadReport:
    """``aload_test`` from sync code (a Streamlit script thread has no running loop)."""
    return asyncio.run(aload_test(url, streams, message, **options))


def run_load_target(target: LoadTarget, streams: int, message: str, **options: Any) -> LoadReport:
    """``run_load_test`` against a ``LoadTarget`` (its URL, token and visitor policy)."""
    return run_load_test(
        target.url, streams, message, token=target.token, visitor=target.visitor, **options
    )
