"""Benchmark 4, memory: a finished run, and a gateway holding idle streams.

*A finished 4,000-token run.* ``tracemalloc`` traces from before the run is
created to after it finished and every other reference was dropped: the
offline model's ``/lorem 4000`` pulled through ``Run.start`` (the real pump,
at 100,000 tok/s so it takes a moment) until ``Done``. What is left is what the
run holds: events, their text, arrival times, and its own bookkeeping.

*Idle streams.* A fresh gateway (offline model); its RSS after a warm-up, then
with 1,000 streams open that wait in ``/stall 30`` (headers sent, no token
yet), sampled every 100 ms while they are all open; the difference is their cost.
"""

from __future__ import annotations

import asyncio
import gc
import os
import tempfile
import time
import tracemalloc
from pathlib import Path

from bench import procs
from bench.loadclient import http_get, run_load
from bench.report import machine_line, met, say, table, write_section
from chat_core import GenerationParams, OfflineBackend, Run, build_conversation

RUN_TOKENS = 4000
IDLE_STREAMS = 1000
IDLE_HOLD_S = 8.0


def finished_run_bytes(tokens: int = RUN_TOKENS) -> tuple[int, int]:
    """Bytes a finished run holds (tracemalloc), and its event count."""
    backend = OfflineBackend(tokens_per_second=100_000)
    conversation = build_conversation(f"/lorem {tokens}", [])

    async def produce() -> Run:
        run = Run()
        run.start(backend.astream(conversation, GenerationParams()))
        while not run.finished:
            await run.aread(run.last_seq, None)
        await asyncio.sleep(0)  # let the pump task finish
        return run

    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    run = asyncio.run(produce())
    gc.collect()
    held = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    assert run.finished and run.last_seq == tokens + 2
    return held, run.last_seq


def idle_gateway_rss(n: int, workdir: Path) -> tuple[float, float, int]:
    """(baseline RSS MB, RSS MB with ``n`` idle streams, streams that got headers)."""
    env = procs.gateway_env(2 * n)
    cmd = [procs.PYTHON, "-m", "chat_core.gateway", "--host", "127.0.0.1", "--port", "{port}"]
    with procs.server(cmd, workdir=workdir, env=env, health_path="/healthz") as srv:
        warm = http_get(srv.port, "/api/chat/stream", {"message": "/echo warm"})
        run_load(srv.port, warm, 5, processes=1, timeout_s=30)
        time.sleep(0.5)
        baseline = procs.rss_kb(srv.pid) / 1024
        stall = http_get(srv.port, "/api/chat/stream", {"message": "/stall 30"})
        with procs.PeakRss(srv.pid) as rss:
            reports = run_load(srv.port, stall, n, processes=1, timeout_s=IDLE_HOLD_S)
        opened = sum(1 for r in reports for s in r.streams if s.status == 200)
    return baseline, rss.peak_kb / 1024, opened


def run() -> None:
    load = os.getloadavg()
    held, events = finished_run_bytes()
    say(f"  finished {RUN_TOKENS}-token run: {held / 1e6:.3f} MB in {events} events")
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
        baseline, loaded, opened = idle_gateway_rss(IDLE_STREAMS, Path(tmp))
    say(f"  gateway RSS {baseline:.0f} MB idle, {loaded:.0f} MB with {opened} waiting streams")
    per_stream_kb = (loaded - baseline) * 1024 / max(1, opened)
    result = table(
        ["measure", "value"],
        [
            [
                f"finished {RUN_TOKENS:,}-token run (tracemalloc)",
                f"{held / 1e6:.3f} MB ({events:,} events, {held / events:.0f} B each)",
            ],
            ["gateway RSS after warm-up", f"{baseline:.0f} MB"],
            [
                f"gateway RSS, {opened:,} streams waiting (`/stall 30`)",
                f"{loaded:.0f} MB (+{loaded - baseline:.0f} MB, {per_stream_kb:.0f} KB a stream)",
            ],
        ],
    )
    goals = table(
        ["goal", "target", "measured", "met"],
        [
            ["finished 4,000-token run", "< 1 MB", f"{held / 1e6:.3f} MB", met(held < 1e6)],
            [
                "1,000 idle streams, gateway RSS",
                "< 200 MB",
                f"{loaded:.0f} MB ({opened:,} open)",
                met(loaded < 200 and opened == IDLE_STREAMS),
            ],
        ],
    )
    say()
    say(result)
    say()
    say(goals)
    body = "\n\n".join(
        [
            "## 4. Memory",
            f"The gateway's RSS is its peak while all streams were open ({IDLE_HOLD_S:.0f} s).",
            result,
            goals,
            machine_line(1, "", load),
        ]
    )
    write_section("memory", body)
