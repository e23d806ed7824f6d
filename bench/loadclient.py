"""A lean SSE load client: raw asyncio sockets, no HTTP library, several processes.

Each stream is one ``asyncio.Protocol`` that sends an HTTP/1.0 GET (so the body
is the bare event stream until the server closes, no chunked framing) and only
counts ``"chunk"`` markers and looks for ``"done"`` in the bytes it receives:
no JSON, no SSE parsing, no copies beyond a 16-byte carry between reads. The
streams are spread over worker processes that all start at the same instant
(``time.monotonic`` is one clock for every process on Linux).

To show the client is not the bottleneck, every worker reports its CPU time and
its event loop's lag (a 10 ms ticker's overshoot): a client that kept up has
low CPU and a lag far below the delays it measures.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import multiprocessing as mp
import os
import queue
import resource
import statistics
import time
import urllib.parse
from dataclasses import dataclass, field

CHUNK = b'"chunk"'
DONE = b'"done"'
_CARRY = 16


@dataclass
class StreamResult:
    started: float
    first_chunk: float | None = None
    done: float | None = None
    chunks: int = 0
    status: int | None = None
    error: str | None = None

    @property
    def complete(self) -> bool:
        return self.done is not None and self.status == 200


@dataclass
class WorkerReport:
    streams: list[StreamResult] = field(default_factory=list)
    cpu_s: float = 0.0
    wall_s: float = 0.0
    loop_lag_p99_ms: float = 0.0
    loop_lag_max_ms: float = 0.0


class _Stream(asyncio.Protocol):
    def __init__(self, request: bytes, result: StreamResult, finished: asyncio.Future[None]):
        self.request, self.result, self.finished = request, result, finished
        self.carry = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        now = time.monotonic()
        r = self.result
        if r.status is None:
            with contextlib.suppress(ValueError, IndexError):
                r.status = int(data[9:12])
        buf = self.carry + data
        found = buf.count(CHUNK) - self.carry.count(CHUNK)
        if found:
            r.chunks += found
            if r.first_chunk is None:
                r.first_chunk = now
        if DONE in buf:
            r.done = now
            if self.transport is not None:
                self.transport.close()
        self.carry = buf[-_CARRY:]

    def connection_lost(self, exc: Exception | None) -> None:
        if exc is not None and self.result.error is None:
            self.result.error = type(exc).__name__
        if not self.finished.done():
            self.finished.set_result(None)


def http_get(port: int, path: str, query: dict[str, str]) -> bytes:
    target = path + "?" + urllib.parse.urlencode(query)
    return (
        f"GET {target} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n"
        "Accept: text/event-stream\r\nCache-Control: no-cache\r\n\r\n"
    ).encode()


def http_post_json(port: int, path: str, body: dict[str, object]) -> bytes:
    data = json.dumps(body).encode()
    head = (
        f"POST {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nAccept: text/event-stream\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
    )
    return head.encode() + data


async def _one(port: int, request: bytes, timeout_s: float, delay_s: float = 0.0) -> StreamResult:
    if delay_s > 0:
        await asyncio.sleep(delay_s)
    loop = asyncio.get_running_loop()
    result = StreamResult(time.monotonic())
    finished: asyncio.Future[None] = loop.create_future()
    transport = None
    try:
        transport, _ = await asyncio.wait_for(
            loop.create_connection(lambda: _Stream(request, result, finished), "127.0.0.1", port),
            timeout_s,
        )
        await asyncio.wait_for(finished, max(0.1, result.started + timeout_s - time.monotonic()))
    except (TimeoutError, OSError) as exc:
        result.error = result.error or type(exc).__name__
    finally:
        if transport is not None:
            transport.close()
    return result


async def _ticker(lags: list[float], stop: asyncio.Event) -> None:
    while not stop.is_set():
        t = time.monotonic()
        await asyncio.sleep(0.01)
        lags.append(time.monotonic() - t - 0.01)


async def _worker(
    port: int, request: bytes, n: int, start_at: float, timeout_s: float, ramp_s: float
) -> WorkerReport:
    await asyncio.sleep(max(0.0, start_at - time.monotonic()))
    cpu0, wall0 = time.process_time(), time.monotonic()
    lags: list[float] = []
    stop = asyncio.Event()
    ticker = asyncio.create_task(_ticker(lags, stop))
    delays = [ramp_s * i / n for i in range(n)]
    streams = await asyncio.gather(*(_one(port, request, timeout_s, d) for d in delays))
    stop.set()
    await ticker
    lags.sort()
    return WorkerReport(
        list(streams),
        time.process_time() - cpu0,
        time.monotonic() - wall0,
        1000 * lags[int(0.99 * (len(lags) - 1))] if lags else 0.0,
        1000 * lags[-1] if lags else 0.0,
    )


def _process(args: tuple[int, bytes, int, float, float, float], out: mp.Queue) -> None:  # type: ignore[type-arg]
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 65536)), hard))
    out.put(asyncio.run(_worker(*args)))


def run_load(
    port: int,
    request: bytes,
    n: int,
    *,
    processes: int = 2,
    timeout_s: float = 120.0,
    ramp_s: float = 0.0,
) -> list[WorkerReport]:
    """``n`` concurrent streams over ``processes`` workers; one report per worker.

    All start at once, or evenly spread over ``ramp_s`` seconds.
    """
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    start_at = time.monotonic() + 1.5  # time for every worker to start up
    shares = [n // processes + (i < n % processes) for i in range(processes)]
    workers = [
        ctx.Process(target=_process, args=((port, request, k, start_at, timeout_s, ramp_s), out))
        for k in shares
        if k
    ]
    for w in workers:
        w.start()
    reports: list[WorkerReport] = []
    deadline = time.monotonic() + timeout_s + 30
    while len(reports) < len(workers) and time.monotonic() < deadline:
        try:
            reports.append(out.get(timeout=1.0))
        except queue.Empty:
            if not any(w.is_alive() for w in workers) and out.empty():
                break  # a worker died without a report
    for w in workers:
        w.join(10)
        if w.is_alive():
            w.kill()
    if len(reports) < len(workers):
        raise RuntimeError(f"{len(workers) - len(reports)} load worker(s) gave no report")
    return reports


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def cpu_count() -> int:
    return os.cpu_count() or 1
