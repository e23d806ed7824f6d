"""Benchmark 3, overhead: what chat_core adds per chunk, at one stream.

*Gateway.* ``bench/clock_backend.py`` makes every token the ``time.monotonic()``
of the moment the back end yielded it (one clock for every process on Linux).
The same back end is read three ways: iterated in-process (``astream``
directly), through a ``Run`` in-process (``start`` + ``aread``, what the
gateway and the app attach to), and through the real gateway over HTTP on
127.0.0.1 (Run, SSE encoding, uvicorn, the socket; read by the raw-socket
client). A chunk's latency is its arrival minus its stamp; "added by the
gateway" is the gateway's percentile minus the in-process one.

*OpenAI back end.* Against the OpenAI stub (another process, 2,000 tokens at a
rate faster than a client parses), the CPU time the consuming thread spends
iterating the raw SDK stream (``chat.completions.create(stream=True)``, reading
``delta.content``) against iterating ``OpenAIBackend.stream`` / ``astream``
(the same SDK call, mapped to typed events). The wrapper never waits, so the
CPU it adds is the latency it adds per chunk on an idle core. Runs alternate;
medians are shown.
"""

from __future__ import annotations

import asyncio
import os
import re
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

from bench import procs
from bench.clock_backend import ClockBackend
from bench.loadclient import http_post_json, percentile
from bench.report import machine_line, met, say, table, write_section
from chat_core import GenerationParams, Run, TextDelta, build_conversation

CLOCK_TPS = 50.0
_STAMP = re.compile(rb'"chunk": ?"([0-9]+\.[0-9]+) ')


@dataclass
class Latencies:
    name: str
    values_ms: list[float]

    def p(self, q: float) -> float:
        return percentile(self.values_ms, q)


async def _direct(backend: ClockBackend) -> list[float]:
    out = []
    async for event in backend.astream(build_conversation("x", []), GenerationParams()):
        if isinstance(event, TextDelta):
            out.append((time.monotonic() - float(event.text)) * 1000)
    return out


async def _through_run(backend: ClockBackend) -> list[float]:
    run = Run()
    run.start(backend.astream(build_conversation("x", []), GenerationParams()))
    out = []
    seq = 0
    while not (run.finished and seq >= run.last_seq):
        batch = await run.aread(seq, None)
        seq += len(batch)
        now = time.monotonic()
        out += [(now - float(e.text)) * 1000 for e in batch if isinstance(e, TextDelta)]
    return out


class _Timed(asyncio.Protocol):
    """Collects each SSE event with the time its last byte arrived."""

    def __init__(self, request: bytes, finished: asyncio.Future[None]) -> None:
        self.request, self.finished = request, finished
        self.buffer = b""
        self.latencies_ms: list[float] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        now = time.monotonic()
        self.buffer += data
        *events, self.buffer = self.buffer.split(b"\n\n")
        for event in events:
            if m := _STAMP.search(event):
                self.latencies_ms.append((now - float(m[1])) * 1000)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.finished.done():
            self.finished.set_result(None)


async def _through_gateway(port: int, timeout_s: float) -> list[float]:
    loop = asyncio.get_running_loop()
    finished: asyncio.Future[None] = loop.create_future()
    request = http_post_json(port, "/api/chat/stream", {"message": "clock"})
    transport, proto = await loop.create_connection(
        lambda: _Timed(request, finished), "127.0.0.1", port
    )
    try:
        await asyncio.wait_for(finished, timeout_s)
    finally:
        transport.close()
    return proto.latencies_ms


def gateway_overhead(tokens: int, runs: int, workdir: Path) -> list[Latencies]:
    backend = ClockBackend(CLOCK_TPS, tokens)
    direct, via_run, via_gateway = [], [], []
    timeout = tokens / CLOCK_TPS + 30
    cmd = [procs.PYTHON, "-m", "bench.clock_backend", "--port", "{port}"]
    cmd += ["--tps", str(CLOCK_TPS), "--tokens", str(tokens)]
    with procs.server(cmd, workdir=workdir, env=procs.clean_env(), health_path="/healthz") as srv:
        asyncio.run(_through_gateway(srv.port, timeout))  # warm up
        for _ in range(runs):
            direct += asyncio.run(_direct(backend))
            via_run += asyncio.run(_through_run(backend))
            via_gateway += asyncio.run(_through_gateway(srv.port, timeout))
    return [
        Latencies("back end, in-process", direct),
        Latencies("through a Run, in-process", via_run),
        Latencies("through the gateway (HTTP, SSE)", via_gateway),
    ]


# -- the OpenAI back end over the raw SDK ----------------------------------------

OPENAI_TOKENS = 2000


def _raw_sync(base_url: str, prompt: str) -> tuple[float, int]:
    import openai

    client = openai.OpenAI(api_key="bench", base_url=base_url, max_retries=0)
    cpu, chunks = time.thread_time(), 0
    stream = client.chat.completions.create(
        model="offline",
        messages=[{"role": "user", "content": prompt}],
        stream=True,
        stream_options={"include_usage": True},
    )
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            chunks += 1
    cpu = time.thread_time() - cpu
    client.close()
    return cpu, chunks


def _ours_sync(base_url: str, prompt: str) -> tuple[float, int]:
    from chat_core.backends.openai import OpenAIBackend

    backend = OpenAIBackend(api_key="bench", base_url=base_url, model="offline", max_retries=0)
    cpu, chunks = time.thread_time(), 0
    for event in backend.stream(build_conversation(prompt, []), GenerationParams()):
        if isinstance(event, TextDelta):
            chunks += 1
    return time.thread_time() - cpu, chunks


async def _raw_async(base_url: str, prompt: str) -> tuple[float, int]:
    import openai

    client = openai.AsyncOpenAI(api_key="bench", base_url=base_url, max_retries=0)
    cpu, chunks = time.thread_time(), 0
    stream = await client.chat.completions.create(
        model="offline",
        messages=[{"role": "user", "content": prompt}],
        stream=True,
        stream_options={"include_usage": True},
    )
    async for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            chunks += 1
    cpu = time.thread_time() - cpu
    await client.close()
    return cpu, chunks


async def _ours_async(base_url: str, prompt: str) -> tuple[float, int]:
    from chat_core.backends.openai import OpenAIBackend

    backend = OpenAIBackend(api_key="bench", base_url=base_url, model="offline", max_retries=0)
    cpu, chunks = time.thread_time(), 0
    events: AsyncIterator[object] = backend.astream(
        build_conversation(prompt, []), GenerationParams()
    )
    async for event in events:
        if isinstance(event, TextDelta):
            chunks += 1
    return time.thread_time() - cpu, chunks


@dataclass
class PerChunk:
    name: str
    raw_us: float
    ours_us: float


def openai_overhead(runs: int, workdir: Path) -> list[PerChunk]:
    prompt = f"/lorem {OPENAI_TOKENS}"
    cmd = [procs.PYTHON, "-m", "chat_core.openai_stub", "--port", "{port}", "--tps", "20000"]
    cmd += ["--log-level", "warning"]
    variants = [
        ("sync (`stream`)", _raw_sync, _ours_sync),
        ("async (`astream`)", _async(_raw_async), _async(_ours_async)),
    ]
    out = []
    with procs.server(cmd, workdir=workdir, env=procs.clean_env(), health_path="/healthz") as srv:
        base_url = srv.url + "/v1"
        for name, raw, ours in variants:
            raw(base_url, prompt)  # warm up imports, connections and the stub
            ours(base_url, prompt)
            raw_us, ours_us = [], []
            for _ in range(runs):
                for fn, sink in ((raw, raw_us), (ours, ours_us)):
                    cpu, chunks = fn(base_url, prompt)
                    if chunks != OPENAI_TOKENS:
                        raise RuntimeError(f"{name}: {chunks} chunks, expected {OPENAI_TOKENS}")
                    sink.append(cpu / chunks * 1e6)
            out.append(PerChunk(name, statistics.median(raw_us), statistics.median(ours_us)))
    return out


def _async(fn: Callable[[str, str], object]) -> Callable[[str, str], tuple[float, int]]:
    def call(base_url: str, prompt: str) -> tuple[float, int]:
        return asyncio.run(fn(base_url, prompt))  # type: ignore[arg-type]

    return call


def run(runs: int = 3, tokens: int = 300) -> None:
    load = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-overhead-") as tmp:
        lat = gateway_overhead(tokens, runs, Path(tmp, "gw").resolve())
        say("  gateway overhead measured")
        per_chunk = openai_overhead(max(3, runs), Path(tmp).resolve())
    report(lat, per_chunk, runs, tokens, load)


def report(
    lat: list[Latencies], per_chunk: list[PerChunk], runs: int, tokens: int, load: tuple[float, ...]
) -> None:
    rows = [
        [
            x.name,
            f"{len(x.values_ms):,}",
            f"{x.p(50):.3f} ms",
            f"{x.p(99):.3f} ms",
            f"{x.p(100):.2f} ms",
        ]
        for x in lat
    ]
    lat_table = table(["path", "chunks", "p50", "p99", "max"], rows)
    base, gw = lat[0], lat[-1]
    added50, added99 = gw.p(50) - base.p(50), gw.p(99) - base.p(99)
    sdk_table = table(
        ["OpenAI path", "raw SDK, CPU per chunk", "OpenAIBackend, CPU per chunk", "added"],
        [
            [p.name, f"{p.raw_us:.1f} µs", f"{p.ours_us:.1f} µs", f"{p.ours_us - p.raw_us:+.1f} µs"]
            for p in per_chunk
        ],
    )
    worst_sdk = max(p.ours_us - p.raw_us for p in per_chunk)
    goals = table(
        ["goal", "target", "measured", "met"],
        [
            ["gateway adds, p50", "≤ 2 ms", f"{added50:.2f} ms", met(added50 <= 2)],
            ["gateway adds, p99", "≤ 10 ms", f"{added99:.2f} ms", met(added99 <= 10)],
            [
                "chat_core adds over the raw SDK",
                "≤ 0.2 ms a chunk",
                f"{worst_sdk / 1000:.3f} ms",
                met(worst_sdk <= 200),
            ],
        ],
    )
    say()
    say(lat_table)
    say()
    say(sdk_table)
    say()
    say(goals)
    body = "\n\n".join(
        [
            "## 3. Overhead per chunk at one stream",
            f"Latency from the back end yielding a chunk to the reader having it: {tokens} chunks "
            f"at {CLOCK_TPS:.0f} tok/s per run, {runs} runs per path, all chunks pooled.",
            lat_table,
            f"CPU the consuming thread spends per chunk, {OPENAI_TOKENS:,} chunks from the "
            f"OpenAI stub per run, medians of {max(3, runs)} runs each.",
            sdk_table,
            goals,
            machine_line(runs, "", load),
        ]
    )
    write_section("overhead", body)
